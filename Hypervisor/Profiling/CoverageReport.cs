using Hypervisor.Isa;
using Hypervisor.Loading;

namespace Hypervisor.Profiling;

/// <summary>A function's coverage: <paramref name="Line"/> is its first line (0 when the image has no line for it).</summary>
public sealed record FunctionCoverage(string Name, uint Address, int Line, long Count);

/// <summary>
/// One outcome of a conditional branch: <paramref name="Block"/> numbers the branch instructions of
/// the line, <paramref name="Branch"/> is 0 for taken and 1 for not taken; <paramref name="Count"/>
/// is null when the branch instruction itself never ran.
/// </summary>
public sealed record BranchCoverage(int Line, int Block, int Branch, long? Count);

/// <summary>Coverage of one source file (or, for code without line information, of the image itself).</summary>
public sealed class FileCoverage(string path)
{
    /// <summary>The file as the line table names it, or the image path for function-only coverage.</summary>
    public string Path { get; } = path;

    /// <summary>Line → times its most-run instruction ran (0 = never).</summary>
    public SortedDictionary<int, long> Lines { get; } = [];

    public List<FunctionCoverage> Functions { get; } = [];

    public List<BranchCoverage> Branches { get; } = [];
}

/// <summary>
/// Which functions, source lines, branches and basic blocks of a guest ran, from a
/// <see cref="ProfileReport"/>: what <c>hv coverage</c> prints and writes as an lcov tracefile.
/// </summary>
/// <remarks>
/// A line is covered when any instruction the line table gives it ran. A function's count is how
/// often execution arrived at its first instruction. Branches are the conditional branch
/// instructions of each line, each with its taken and not-taken counts (the profile's edges).
/// Blocks are the static basic blocks of the code (starts: function entries, branch and jump
/// targets, the instruction after one that ends a block, and every address a transfer landed on).
/// </remarks>
public sealed class CoverageReport
{
    private CoverageReport(string testName, IReadOnlyList<FileCoverage> files, bool hasLines, int blocksFound, int blocksHit, IReadOnlyList<string> notes)
    {
        TestName = testName;
        Files = files;
        HasLines = hasLines;
        BlocksFound = blocksFound;
        BlocksHit = blocksHit;
        Notes = notes;
    }

    /// <summary>The lcov test name (TN) of this run: the VM's name, with characters lcov dislikes replaced.</summary>
    public string TestName { get; }

    public IReadOnlyList<FileCoverage> Files { get; }

    /// <summary>False for an image without a line table: coverage is by function only.</summary>
    public bool HasLines { get; }

    public IReadOnlyList<string> Notes { get; }

    public int FunctionsFound => Files.Sum(f => f.Functions.Count);

    public int FunctionsHit => Files.Sum(f => f.Functions.Count(fn => fn.Count > 0));

    public int LinesFound => Files.Sum(f => f.Lines.Count);

    public int LinesHit => Files.Sum(f => f.Lines.Values.Count(n => n > 0));

    public int BranchesFound => Files.Sum(f => f.Branches.Count);

    public int BranchesHit => Files.Sum(f => f.Branches.Count(b => b.Count > 0));

    public int BlocksFound { get; }

    public int BlocksHit { get; }

    /// <summary>The coverage of one file, by the end of its path (e.g. "profile-demo.c").</summary>
    public FileCoverage? File(string pathSuffix) =>
        Files.FirstOrDefault(f => f.Path == pathSuffix || f.Path.EndsWith("/" + pathSuffix, StringComparison.Ordinal));

    public static CoverageReport Build(ProfileReport report, string testName)
    {
        var files = new Dictionary<string, FileCoverage>(StringComparer.Ordinal);
        FileCoverage FileOf(string path)
        {
            if (!files.TryGetValue(path, out FileCoverage? f))
            {
                f = new FileCoverage(path);
                files[path] = f;
            }
            return f;
        }

        var code = new SortedSet<uint>();
        DwarfLineTable? lines = report.Lines;
        if (lines is not null)
        {
            foreach (LineRange range in lines.StatementRanges)
            {
                if (!InCode(report.Image, range.Start))
                {
                    continue;
                }
                FileCoverage file = FileOf(range.Source.File);
                long most = file.Lines.GetValueOrDefault(range.Source.Line);
                for (uint a = range.Start; a < range.End && a >= range.Start; a += 4)
                {
                    code.Add(a);
                    most = Math.Max(most, report.Executions(a));
                }
                file.Lines[range.Source.Line] = most;
            }
            // Each conditional branch belongs to the one line addr2line gives it.
            var branchIndex = new Dictionary<(string, int), int>();
            foreach (LineRange range in lines.Ranges)
            {
                if (!InCode(report.Image, range.Start))
                {
                    continue;
                }
                FileCoverage file = FileOf(range.Source.File);
                int line = range.Source.Line;
                for (uint a = range.Start; a < range.End && a >= range.Start; a += 4)
                {
                    if (report.Word(a) is uint word && Decoder.Decode(word) is { Op: >= Opcode.Beq and <= Opcode.Bgeu } branch)
                    {
                        int block = branchIndex.GetValueOrDefault((file.Path, line));
                        branchIndex[(file.Path, line)] = block + 1;
                        bool reached = report.Executions(a) > 0;
                        file.Branches.Add(new BranchCoverage(line, block, 0, reached ? report.EdgeCount(a, a + (uint)branch.Imm) : null));
                        file.Branches.Add(new BranchCoverage(line, block, 1, reached ? report.EdgeCount(a, a + 4) : null));
                    }
                }
            }
        }

        string imagePath = System.IO.Path.GetFullPath(report.Image.Path).Replace('\\', '/');
        foreach (CodeSymbol function in report.Symbols.Functions)
        {
            SourceLine? source = lines?.Lookup(function.Address);
            FileCoverage file = FileOf(source?.File ?? imagePath);
            file.Functions.Add(new FunctionCoverage(function.Name, function.Address, source?.Line ?? 0, report.Executions(function.Address)));
            for (uint a = function.Address; a - function.Address < function.Size; a += 4)
            {
                code.Add(a);
            }
        }

        (int blocksFound, int blocksHit) = CountBlocks(report, code);
        string tn = new([.. testName.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_')]);
        return new CoverageReport(tn.Length == 0 ? "guest" : tn, [.. files.Values.OrderBy(f => f.Path, StringComparer.Ordinal)],
            lines is not null, blocksFound, blocksHit, report.Notes);
    }

    /// <summary>Static basic blocks of the code addresses, and how many of them ran.</summary>
    private static (int Found, int Hit) CountBlocks(ProfileReport report, SortedSet<uint> code)
    {
        var leaders = new HashSet<uint>();
        foreach (CodeSymbol f in report.Symbols.Functions)
        {
            leaders.Add(f.Address);
        }
        foreach (uint a in report.Profile.BlockEntries().Keys)
        {
            leaders.Add(a);
        }
        uint previous = 0;
        bool first = true;
        foreach (uint a in code)
        {
            if (first || a != previous + 4)
            {
                leaders.Add(a); // the start of a stretch of code
            }
            first = false;
            previous = a;
            if (report.Word(a) is not uint word)
            {
                continue;
            }
            Instruction i = Decoder.Decode(word);
            if (ProfileReport.EndsBlock(i.Op))
            {
                leaders.Add(a + 4);
            }
            if (i.Op is Opcode.Jal or (>= Opcode.Beq and <= Opcode.Bgeu))
            {
                leaders.Add(a + (uint)i.Imm);
            }
        }
        int found = 0, hit = 0;
        foreach (uint leader in leaders)
        {
            if (!code.Contains(leader))
            {
                continue;
            }
            found++;
            if (report.Executions(leader) > 0)
            {
                hit++;
            }
        }
        return (found, hit);
    }

    private static bool InCode(ElfImage image, uint address)
    {
        foreach (LoadSegment seg in image.Segments)
        {
            if (seg.Executable && address - seg.PhysicalAddress < (uint)seg.Data.Length)
            {
                return true;
            }
        }
        return false;
    }
}
