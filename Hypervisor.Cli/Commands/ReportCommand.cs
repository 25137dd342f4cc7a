using System.CommandLine;
using Hypervisor.Cli.Report;

namespace Hypervisor.Cli.Commands;

/// <summary><c>hv report run.json -o report.html</c>: a self-contained HTML page from a trace file (docs/telemetry.md).</summary>
public static class ReportCommand
{
    public static Command Build(CliContext context)
    {
        var trace = new Argument<string>("trace") { Description = "Trace file written by hv run --trace-out (Chrome Trace Event JSON)" };
        var output = new Option<string?>("--output", "-o") { Description = "HTML file to write (default: the trace's name with .html)" };
        var command = new Command("report", "Turn a trace file into a self-contained HTML page: timeline, share of the host per VM, interrupt latency")
        {
            trace, output,
        };
        command.SetAction(p => Execute(context, p.GetValue(trace)!, p.GetValue(output)));
        return command;
    }

    public static int Execute(CliContext context, string tracePath, string? output)
    {
        if (!File.Exists(tracePath))
        {
            throw new CliException($"{tracePath}: no such file");
        }
        TraceFile trace;
        try
        {
            trace = TraceFile.Load(tracePath);
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"{tracePath}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{tracePath}: {e.Message}");
        }
        string target = output ?? Path.ChangeExtension(tracePath, ".html");
        string html = HtmlReport.Render(trace, "hv report — " + Path.GetFileName(tracePath));
        try
        {
            File.WriteAllText(target, html);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"-o: cannot write {target}: {e.Message}");
        }
        context.Error.WriteLine($"hv: report of {trace.Events.Count:N0} events in {target}");
        return 0;
    }
}
