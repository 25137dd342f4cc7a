using System.Globalization;

namespace Hypervisor.Tests.Profiling;

/// <summary>One SF..end_of_record section of a tracefile, checked for consistency as it is read.</summary>
internal sealed class LcovRecord
{
    public string TestName { get; private set; } = "";

    public string SourceFile { get; private set; } = "";

    public Dictionary<string, int> FunctionLines { get; } = [];

    public Dictionary<string, long> FunctionHits { get; } = [];

    public Dictionary<int, long> Lines { get; } = [];

    public List<(int Line, int Block, int Branch, string Taken)> Branches { get; } = [];

    public static List<LcovRecord> Parse(string text)
    {
        var records = new List<LcovRecord>();
        string testName = "";
        LcovRecord? current = null;
        int? fnf = null, fnh = null, lf = null, lh = null, brf = null, brh = null;
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = line.IndexOf(':');
            string key = colon < 0 ? line : line[..colon];
            string value = colon < 0 ? "" : line[(colon + 1)..];
            string[] f = value.Split(',');
            if (key == "TN")
            {
                Assert.Null(current);
                testName = value;
                continue;
            }
            if (key == "SF")
            {
                Assert.Null(current);
                current = new LcovRecord { TestName = testName, SourceFile = value };
                fnf = fnh = lf = lh = brf = brh = null;
                continue;
            }
            Assert.True(current is not null, $"'{line}' outside a record");
            switch (key)
            {
                case "FN":
                    current.FunctionLines.Add(f[1], Int(f[0]));
                    break;
                case "FNDA":
                    Assert.True(current.FunctionLines.ContainsKey(f[1]), $"FNDA for {f[1]} without FN");
                    current.FunctionHits.Add(f[1], Long(f[0]));
                    break;
                case "FNF": fnf = Int(value); break;
                case "FNH": fnh = Int(value); break;
                case "DA":
                    current.Lines.Add(Int(f[0]), Long(f[1]));
                    break;
                case "LF": lf = Int(value); break;
                case "LH": lh = Int(value); break;
                case "BRDA":
                    Assert.True(f[3] == "-" || long.TryParse(f[3], out _), line);
                    current.Branches.Add((Int(f[0]), Int(f[1]), Int(f[2]), f[3]));
                    break;
                case "BRF": brf = Int(value); break;
                case "BRH": brh = Int(value); break;
                case "end_of_record":
                    Assert.Equal(current.FunctionLines.Count, fnf);
                    Assert.Equal(current.FunctionHits.Count(h => h.Value > 0), fnh);
                    if (current.Lines.Count > 0)
                    {
                        Assert.Equal(current.Lines.Count, lf);
                        Assert.Equal(current.Lines.Count(l => l.Value > 0), lh);
                    }
                    if (current.Branches.Count > 0)
                    {
                        Assert.Equal(current.Branches.Count, brf);
                        Assert.Equal(current.Branches.Count(b => b.Taken is not ("-" or "0")), brh);
                    }
                    records.Add(current);
                    current = null;
                    break;
                default:
                    Assert.Fail($"unknown tracefile line '{line}'");
                    break;
            }
        }
        Assert.Null(current);
        return records;
    }

    private static int Int(string s) => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);

    private static long Long(string s) => long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
}
