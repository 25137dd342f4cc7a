using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Hypervisor.Profiling;

namespace Hypervisor.Cli.Commands;

/// <summary>
/// <c>hv profile &lt;guest.elf | scenario&gt;</c>: runs each VM with profiling on and prints its hottest
/// basic blocks and functions (names from the ELF, source lines from its DWARF), with entries,
/// instructions and share of the run.
/// </summary>
public static class ProfileCommand
{
    public static Command Build(CliContext context)
    {
        var runs = new ProfileRuns();
        var top = new Option<int>("--top") { Description = "How many blocks and functions to list", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print the profile as one JSON object on the last line of stdout" };
        var command = new Command("profile", "Run a guest (or each VM of a scenario) and show its hottest basic blocks and functions");
        runs.AddTo(command);
        command.Add(top);
        command.Add(json);
        command.SetAction(parse =>
        {
            int n = parse.GetValue(top);
            if (n < 1)
            {
                throw new CliException($"--top: must be at least 1 (got {n})");
            }
            IReadOnlyList<ProfiledVm> results = runs.Run(parse, context);
            if (parse.GetValue(json))
            {
                context.WriteOutLine(JsonSerializer.Serialize(new { vms = results.Select(r => Json(r, n)).ToArray() }));
            }
            else
            {
                var text = new StringBuilder();
                foreach (ProfiledVm r in results)
                {
                    Render(text, r, n);
                }
                context.Out.Write(Encoding.UTF8.GetBytes(text.ToString()));
                context.Out.Flush();
            }
            foreach (string note in results.SelectMany(r => r.Report.Notes).Distinct())
            {
                context.Error.WriteLine($"hv: note: {note}");
            }
            return ProfileRuns.ExitCode(results, FleetCommand.IsScenario(parse.GetValue(runs.Target)!), context);
        });
        return command;
    }

    /// <summary>The text report of one VM: a heading line, the hottest blocks, the hottest functions.</summary>
    public static void Render(StringBuilder o, ProfiledVm r, int top)
    {
        ProfileReport p = r.Report;
        o.Append(CultureInfo.InvariantCulture,
            $"== {r.Name} ({r.ImagePath}): {r.Engine} engine, {ProfileRuns.MethodName(r.Method)} method; {p.TotalInstructions:N0} instructions in {p.Blocks.Count:N0} blocks, {p.Profile.TotalTransfers:N0} transfers\n");
        var blocks = new List<string[]> { new[] { "address", "function+offset", "source", "entries", "length", "instructions", "share" } };
        foreach (BlockProfile b in p.HottestBlocks(top))
        {
            blocks.Add([$"0x{b.Address:x8}", b.Location, b.Source?.ToString() ?? "-", N(b.Entries), N(b.Length), N(b.Instructions), Percent(p.Share(b.Instructions))]);
        }
        o.Append("hottest blocks\n");
        Table(o, blocks, rightAligned: 3);
        var functions = new List<string[]> { new[] { "function", "address", "source", "calls", "blocks", "instructions", "share" } };
        foreach (FunctionProfile f in p.HottestFunctions(top))
        {
            functions.Add([f.Name, $"0x{f.Address:x8}", f.Source?.ToString() ?? "-", N(f.Calls), N(f.Blocks), N(f.Instructions), Percent(p.Share(f.Instructions))]);
        }
        o.Append("hottest functions\n");
        Table(o, functions, rightAligned: 3);
        o.Append('\n');
    }

    private static object Json(ProfiledVm r, int top)
    {
        ProfileReport p = r.Report;
        return new
        {
            name = r.Name,
            image = r.ImagePath,
            engine = r.Engine,
            method = ProfileRuns.MethodName(r.Method),
            end = r.Summary.End.ToString(),
            exitCode = r.Summary.ProcessExitCode,
            instret = r.Summary.Instret,
            wallSeconds = Math.Round(r.Summary.WallSeconds, 6),
            mips = Math.Round(r.Summary.Mips, 3),
            instructions = p.TotalInstructions,
            transfers = p.Profile.TotalTransfers,
            blockCount = p.Blocks.Count,
            blocks = p.HottestBlocks(top).Select(b => new
            {
                address = $"0x{b.Address:x8}",
                function = b.Symbol?.Name,
                offset = b.Symbol is null ? (uint?)null : b.Address - b.Symbol.Address,
                file = b.Source?.File,
                line = b.Source?.Line,
                entries = b.Entries,
                length = b.Length,
                instructions = b.Instructions,
                share = Math.Round(p.Share(b.Instructions), 6),
            }).ToArray(),
            functions = p.HottestFunctions(top).Select(f => new
            {
                name = f.Name,
                address = $"0x{f.Address:x8}",
                file = f.Source?.File,
                line = f.Source?.Line,
                calls = f.Calls,
                blocks = f.Blocks,
                instructions = f.Instructions,
                share = Math.Round(p.Share(f.Instructions), 6),
            }).ToArray(),
            notes = p.Notes,
        };
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string Percent(double share) => (share * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";

    /// <summary>Columns padded to their widest cell, two spaces apart; columns from <paramref name="rightAligned"/> on are right-aligned.</summary>
    private static void Table(StringBuilder o, List<string[]> rows, int rightAligned)
    {
        int[] widths = new int[rows[0].Length];
        foreach (string[] row in rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        foreach (string[] row in rows)
        {
            var line = new StringBuilder("  ");
            for (int i = 0; i < row.Length; i++)
            {
                line.Append(i >= rightAligned ? row[i].PadLeft(widths[i]) : row[i].PadRight(widths[i]));
                line.Append(i + 1 < row.Length ? "  " : "");
            }
            o.Append(line.ToString().TrimEnd()).Append('\n');
        }
    }
}
