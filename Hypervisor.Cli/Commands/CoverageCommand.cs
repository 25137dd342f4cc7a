using System.CommandLine;
using Hypervisor.Profiling;

namespace Hypervisor.Cli.Commands;

/// <summary>
/// <c>hv coverage &lt;guest.elf | scenario&gt; -o coverage.info</c>: runs each VM with profiling on and
/// writes which functions, source lines, branches and blocks ran as an lcov tracefile (one TN
/// section per VM) that <c>genhtml</c> renders; prints a summary per VM.
/// </summary>
public static class CoverageCommand
{
    public static Command Build(CliContext context)
    {
        var runs = new ProfileRuns();
        var output = new Option<string>("--output", "-o") { Description = "The lcov tracefile to write (e.g. coverage.info)", Required = true };
        var sourceRoot = new Option<string?>("--source-root")
        {
            Description = "Folder the guest's DWARF paths are relative to (default: found next to the ELF, e.g. guests/ for guests/bin/x.elf)",
        };
        var command = new Command("coverage", "Run a guest (or each VM of a scenario) and write its code coverage as an lcov tracefile");
        runs.AddTo(command);
        command.Add(output);
        command.Add(sourceRoot);
        command.SetAction(parse =>
        {
            string file = parse.GetValue(output)!;
            string? root = parse.GetValue(sourceRoot);
            if (root is not null && !Directory.Exists(root))
            {
                throw new CliException($"--source-root: {root}: no such folder");
            }
            string? folder = Path.GetDirectoryName(Path.GetFullPath(file));
            if (folder is not null && !Directory.Exists(folder))
            {
                throw new CliException($"-o: {file}: folder {folder} does not exist");
            }
            IReadOnlyList<ProfiledVm> results = runs.Run(parse, context);
            var reports = new List<CoverageReport>();
            var resolvers = new List<Func<string, string>>();
            foreach (ProfiledVm r in results)
            {
                CoverageReport c = CoverageReport.Build(r.Report, r.Name);
                reports.Add(c);
                context.WriteOutLine(Summary(r.Name, c));
            }
            try
            {
                using var writer = new StreamWriter(file, append: false, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
                for (int i = 0; i < results.Count; i++)
                {
                    Func<string, string> resolve = SourceResolver(results[i].ImagePath, root);
                    LcovWriter.Write(writer, [reports[i]], resolve);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"-o: cannot write {file}: {e.Message}");
            }
            foreach (string note in results.SelectMany(r => r.Report.Notes).Distinct())
            {
                context.Error.WriteLine($"hv: note: {note}");
            }
            context.Error.WriteLine($"hv: wrote {file} ({results.Count} VM{(results.Count == 1 ? "" : "s")}); render it with: genhtml --branch-coverage {file} -o coverage-html");
            return ProfileRuns.ExitCode(results, FleetCommand.IsScenario(parse.GetValue(runs.Target)!), context);
        });
        return command;
    }

    /// <summary>One line per VM: functions, lines, branches and blocks hit.</summary>
    public static string Summary(string name, CoverageReport c)
    {
        static string Of(int hit, int found) => $"{hit}/{found} ({(found == 0 ? 0 : 100.0 * hit / found):F1}%)";
        string lines = c.HasLines ? $"lines {Of(c.LinesHit, c.LinesFound)}, branches {Of(c.BranchesHit, c.BranchesFound)}" : "lines - (no debug info)";
        return $"{name}: functions {Of(c.FunctionsHit, c.FunctionsFound)}, {lines}, blocks {Of(c.BlocksHit, c.BlocksFound)}";
    }

    private static string? FindUnique(string folder, string name)
    {
        try
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 3, IgnoreInaccessible = true };
            string[] matches = [.. Directory.EnumerateFiles(folder, name, options).Take(2)];
            return matches.Length == 1 ? Path.GetFullPath(matches[0]) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Makes the line table's relative paths absolute: against <paramref name="root"/> when given,
    /// else against the first of the ELF's parent folder (guests/ for guests/bin/x.elf: the build
    /// folder the guests' DWARF is relative to), the ELF's folder and the working folder that
    /// holds the file; failing those, a file of that name alone in the first folder's tree.
    /// </summary>
    private static Func<string, string> SourceResolver(string imagePath, string? root)
    {
        string imageDir = Path.GetDirectoryName(Path.GetFullPath(imagePath))!;
        string[] bases = root is not null
            ? [Path.GetFullPath(root)]
            : [Path.GetDirectoryName(imageDir) ?? imageDir, imageDir, Directory.GetCurrentDirectory()];
        return path =>
        {
            if (Path.IsPathRooted(path))
            {
                return path;
            }
            foreach (string b in bases)
            {
                string candidate = Path.GetFullPath(Path.Combine(b, path));
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            // An assembler's .file directive can leave the folder out (crt0.S): take a unique match under the first base.
            string? found = FindUnique(bases[0], Path.GetFileName(path));
            return found ?? Path.GetFullPath(Path.Combine(bases[0], path));
        };
    }
}
