using System.Globalization;

namespace Hypervisor.Profiling;

/// <summary>
/// Writes coverage as an lcov tracefile (the format of <c>geninfo</c>, read by <c>lcov</c> and
/// <c>genhtml</c>): per run a test name (TN), then per source file SF, FN/FNDA/FNF/FNH for
/// functions, BRDA/BRF/BRH for branches, DA/LF/LH for lines, and end_of_record.
/// </summary>
/// <remarks>
/// Paths in SF are what the <c>resolvePath</c> argument makes of the line table's names (the
/// guests' DWARF holds paths relative to their build folder). For an image without a line table,
/// its functions are written under the image's own path with line 0 and no line records:
/// function-level coverage only.
/// </remarks>
public static class LcovWriter
{
    public static void Write(TextWriter output, IEnumerable<CoverageReport> runs, Func<string, string>? resolvePath = null)
    {
        resolvePath ??= p => p;
        foreach (CoverageReport run in runs)
        {
            foreach (FileCoverage file in run.Files)
            {
                WriteFile(output, run.TestName, resolvePath(file.Path), file);
            }
        }
    }

    public static string ToText(IEnumerable<CoverageReport> runs, Func<string, string>? resolvePath = null)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(w, runs, resolvePath);
        return w.ToString();
    }

    private static void WriteFile(TextWriter o, string testName, string path, FileCoverage file)
    {
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        o.Write($"TN:{testName}\n");
        o.Write($"SF:{path}\n");
        var functions = file.Functions.OrderBy(f => f.Line).ThenBy(f => f.Address).ToList();
        foreach (FunctionCoverage f in functions)
        {
            o.Write($"FN:{I(f.Line)},{f.Name}\n");
        }
        foreach (FunctionCoverage f in functions)
        {
            o.Write($"FNDA:{I(f.Count)},{f.Name}\n");
        }
        o.Write($"FNF:{I(functions.Count)}\n");
        o.Write($"FNH:{I(functions.Count(f => f.Count > 0))}\n");
        if (file.Branches.Count > 0)
        {
            foreach (BranchCoverage b in file.Branches.OrderBy(b => b.Line).ThenBy(b => b.Block).ThenBy(b => b.Branch))
            {
                o.Write($"BRDA:{I(b.Line)},{I(b.Block)},{I(b.Branch)},{(b.Count is long n ? I(n) : "-")}\n");
            }
            o.Write($"BRF:{I(file.Branches.Count)}\n");
            o.Write($"BRH:{I(file.Branches.Count(b => b.Count > 0))}\n");
        }
        if (file.Lines.Count > 0)
        {
            foreach ((int line, long count) in file.Lines)
            {
                o.Write($"DA:{I(line)},{I(count)}\n");
            }
            o.Write($"LF:{I(file.Lines.Count)}\n");
            o.Write($"LH:{I(file.Lines.Values.Count(n => n > 0))}\n");
        }
        o.Write("end_of_record\n");
    }
}
