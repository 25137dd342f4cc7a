using System.Globalization;
using System.Text;
using System.Text.Json;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Telemetry;
using Hypervisor.Cli.Telemetry;
using Hypervisor.Devices;
using Hypervisor.Machine;
using Hypervisor.Monitor;
using Serilog;
using Serilog.Events;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Hypervisor.Cli.Commands;

/// <summary>
/// <c>hv run scenario.hocon</c>: runs a fleet of VMs through the actor layer, with a live table on an
/// interactive terminal (or each VM's lines prefixed <c>[vm]</c> otherwise), a summary table at the
/// end, and <c>--json</c> for one machine-readable summary line. Ctrl-C stops the fleet cleanly.
/// </summary>
public static class FleetCommand
{
    private const int LiveRows = 24;
    private const int ConsoleLines = 8;

    public static bool IsScenario(string target) =>
        target.EndsWith(".hocon", StringComparison.OrdinalIgnoreCase) || target.EndsWith(".conf", StringComparison.OrdinalIgnoreCase);

    public static int Execute(CliContext context, string path, bool json, string? outDir, string? duration, bool plain, string? stdinTo = null,
        TelemetryOverrides? telemetry = null)
    {
        Scenario scenario;
        try
        {
            scenario = ScenarioLoader.Load(path);
        }
        catch (ScenarioException e)
        {
            throw new CliException(e.Message);
        }
        if (duration is not null)
        {
            if (!ScenarioLoader.TryParseDuration(duration, out TimeSpan limit))
            {
                throw new CliException($"--duration: '{duration}' is not a duration (e.g. 10s, 500ms)");
            }
            scenario = scenario with { Settings = scenario.Settings with { StopAfter = limit > TimeSpan.Zero ? limit : null } };
        }
        scenario = scenario with { Settings = scenario.Settings with { Telemetry = (telemetry ?? TelemetryOverrides.None).Apply(scenario.Settings.Telemetry) } };
        if (stdinTo is not null && scenario.Vms.All(v => v.Name != stdinTo))
        {
            throw new CliException($"--stdin-to: the scenario has no VM named '{stdinTo}'");
        }
        string dir = ResolveOutputDir(outDir ?? scenario.Settings.OutputDir);
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{(outDir is null ? "output.dir" : "--out")}: cannot create {dir}: {e.Message}");
        }

        bool live = !plain && !json && context.IsProcessConsole && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var sink = new TerminalSink(context, scenario.Settings.TerminalOutput, live);
        TelemetryPipeline pipeline = TelemetryOverrides.Start(scenario.Settings.Telemetry,
            telemetry?.TraceOut is not null ? "--trace-out" : $"{scenario.File}: hypervisor.telemetry.trace-file", scenario.Vms.Count);
        Log.Logger = BuildLogger(context, scenario.Settings, dir);
        FleetCompleted result;
        try
        {
            Log.Information("scenario {Scenario}: {Count} VMs, output in {Dir}", scenario.File, scenario.Vms.Count, dir);
            result = RunFleet(context, scenario, dir, sink, live, stdinTo, pipeline).GetAwaiter().GetResult();
        }
        catch (ScenarioException e)
        {
            throw new CliException(e.Message);
        }
        finally
        {
            pipeline.Dispose();
            Log.CloseAndFlush();
        }
        if (pipeline.TraceFile is { } traceFile)
        {
            context.Error.WriteLine($"hv: trace ({traceFile.Events:N0} events) in {traceFile.Path}: open it in ui.perfetto.dev or chrome://tracing, or run hv report");
        }
        sink.Flush();

        WriteSummaryTable(context, result);
        context.Error.WriteLine($"hv: transcripts, log and summary.json in {dir}");
        string summary = SummaryJson(result, dir);
        File.WriteAllText(Path.Combine(dir, "summary.json"), summary + "\n");
        if (json)
        {
            context.WriteOutLine(summary);
        }
        return ExitCode(result);
    }

    private static async Task<FleetCompleted> RunFleet(CliContext context, Scenario scenario, string dir, TerminalSink sink, bool live, string? stdinTo,
        TelemetryPipeline pipeline)
    {
        await using FleetHost host = FleetHost.Start(scenario, new SupervisorOptions { OutputDir = dir, Terminal = sink }, serilog: true);
        using CancellationTokenRegistration reg = context.Cancel.Register(() => host.Stop("interrupted (Ctrl-C)"));
        if (stdinTo is not null && context.In is Stream input)
        {
            ForwardInput(input, bytes => host.FeedInput(stdinTo, bytes));
        }
        if (!live)
        {
            return await Collected(host, pipeline).ConfigureAwait(false);
        }
        await AnsiConsole.Live(new Text("starting the fleet ..."))
            .AutoClear(true)
            .StartAsync(async ctx =>
            {
                while (!host.Completion.IsCompleted)
                {
                    FleetStatus status = await host.StatusAsync().ConfigureAwait(false);
                    ctx.UpdateTarget(LiveView(status, sink.Recent()));
                    await Task.WhenAny(host.Completion, Task.Delay(250)).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        return await Collected(host, pipeline).ConfigureAwait(false);
    }

    /// <summary>The fleet's end, once the last metrics are collected (the fleet's counters go with it).</summary>
    private static async Task<FleetCompleted> Collected(FleetHost host, TelemetryPipeline pipeline)
    {
        FleetCompleted done = await host.Completion.ConfigureAwait(false);
        pipeline.CollectMetrics();
        return done;
    }

    /// <summary>Reads standard input on a background thread and hands each chunk to <paramref name="feed"/>.</summary>
    private static void ForwardInput(Stream input, Action<byte[]> feed)
    {
        var reader = new Thread(() =>
        {
            byte[] chunk = new byte[256];
            try
            {
                int n;
                while ((n = input.Read(chunk, 0, chunk.Length)) > 0)
                {
                    feed(chunk.AsSpan(0, n).ToArray());
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
            }
        })
        {
            IsBackground = true,
            Name = "hv-stdin",
        };
        reader.Start();
    }

    internal static string ResolveOutputDir(string pattern) =>
        pattern.Replace("{timestamp}", DateTime.Now.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static ILogger BuildLogger(CliContext context, HypervisorSettings settings, string dir)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .Enrich.With(new ActivityEnricher())
            .WriteTo.File(Path.Combine(dir, "hv.log"), Level(settings.FileLogLevel),
                outputTemplate: "{Timestamp:HH:mm:ss.fff} [{Level:u3}] {Message:lj}{Span}{NewLine}{Exception}");
        config = context.IsProcessConsole
            ? config.WriteTo.Console(Level(settings.TerminalLogLevel), standardErrorFromLevel: LogEventLevel.Verbose,
                outputTemplate: "hv: [{Level:u3}] {Message:lj}{NewLine}{Exception}")
            : config.WriteTo.Sink(new TextWriterSink(context.Error), Level(settings.TerminalLogLevel));
        return config.CreateLogger();
    }

    private static LogEventLevel Level(string name) => Enum.Parse<LogEventLevel>(name, ignoreCase: true);

    private static int ExitCode(FleetCompleted r)
    {
        if (r.Interrupted && !r.TimeLimit)
        {
            return ExitCodes.Interrupted;
        }
        bool allPassed = r.Status.Vms.All(v => v.ExitCode == 0 || (r.TimeLimit && v.Phase == VmPhase.Stopped));
        return !allPassed ? FleetExitCodes.SomeVmFailed : r.TimeLimit ? ExitCodes.InstructionLimit : 0;
    }

    private static IRenderable LiveView(FleetStatus status, IReadOnlyList<string> recent)
    {
        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.Title = new TableTitle($"hv — {status.Vms.Count} VMs, {status.SlicesInFlight} running, fleet time {FormatTicks(status.FleetTime)}, {status.WallSeconds:F1} s");
        bool storm = HasStorm(status.Vms);
        AddColumns(table, storm);
        IEnumerable<VmStatus> shown = status.Vms.Count <= LiveRows
            ? status.Vms
            : status.Vms.OrderBy(v => v.Finished).ThenByDescending(v => v.Phase == VmPhase.Running).ThenByDescending(v => v.Stats.HostSeconds).Take(LiveRows);
        foreach (VmStatus v in shown)
        {
            AddRow(table, v, storm);
        }
        if (status.Vms.Count > LiveRows)
        {
            table.Caption = new TableTitle($"{status.Vms.Count - LiveRows} more; {Counts(status)}");
        }
        var console = new Panel(new Text(recent.Count == 0 ? " " : string.Join('\n', recent))).Header("console").Expand();
        return new Rows(table, console);
    }

    private static string Counts(FleetStatus s) =>
        string.Join(", ", s.Vms.GroupBy(v => v.Phase).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));

    /// <summary>True when some VM's interrupt generator has seen traffic: the table then shows its accounting.</summary>
    private static bool HasStorm(IEnumerable<VmStatus> vms) => vms.Any(v => v.Stats.Storm is not null);

    private static void AddColumns(Table table, bool storm)
    {
        table.AddColumn("VM");
        table.AddColumn("state");
        table.AddColumn("engine");
        table.AddColumn(new TableColumn("weight").RightAligned());
        table.AddColumn(new TableColumn("instructions").RightAligned());
        table.AddColumn(new TableColumn("MIPS").RightAligned());
        table.AddColumn(new TableColumn("interrupts").RightAligned());
        if (storm)
        {
            table.AddColumn(new TableColumn("raised").RightAligned());
            table.AddColumn(new TableColumn("delivered").RightAligned());
            table.AddColumn(new TableColumn("coalesced").RightAligned());
            table.AddColumn(new TableColumn("deferred").RightAligned());
            table.AddColumn(new TableColumn("lost").RightAligned());
            table.AddColumn(new TableColumn("latency µs p50/p99/max virtual").RightAligned());
            table.AddColumn(new TableColumn("host").RightAligned());
        }
        table.AddColumn(new TableColumn("resident").RightAligned());
        table.AddColumn(new TableColumn("exit").RightAligned());
    }

    private static void AddRow(Table table, VmStatus v, bool storm)
    {
        string state = v.Phase.ToString().ToLowerInvariant();
        string color = v.Phase switch
        {
            VmPhase.Running => "green",
            VmPhase.PoweredOff => v.ExitCode == 0 ? "blue" : "red",
            VmPhase.Faulted or VmPhase.Crashed => "red",
            VmPhase.Parked or VmPhase.HaltedIdle => "grey",
            _ => "default",
        };
        var cells = new List<string>
        {
            Markup.Escape(v.Name),
            $"[{color}]{state}[/]",
            v.Stats.Engine,
            v.Weight.ToString(CultureInfo.InvariantCulture) + (v.CapPercent > 0 ? $" (cap {v.CapPercent}%)" : ""),
            v.Stats.Instret.ToString("N0", CultureInfo.InvariantCulture),
            v.Stats.Mips.ToString("F1", CultureInfo.InvariantCulture),
            v.Stats.Interrupts.ToString("N0", CultureInfo.InvariantCulture),
        };
        if (storm)
        {
            InterruptStats? g = v.Stats.Storm;
            cells.Add(g is null ? "" : g.Raised.ToString("N0", CultureInfo.InvariantCulture));
            cells.Add(g is null ? "" : g.Delivered.ToString("N0", CultureInfo.InvariantCulture));
            cells.Add(g is null ? "" : g.Coalesced.ToString("N0", CultureInfo.InvariantCulture));
            cells.Add(g is null ? "" : g.Deferred.ToString("N0", CultureInfo.InvariantCulture));
            cells.Add(g is null ? "" : g.Lost == 0 ? "0" : $"[red]{g.Lost.ToString("N0", CultureInfo.InvariantCulture)}[/]");
            cells.Add(g is null ? "" : Latency(g.VirtualLatencyNs));
            cells.Add(g is null ? "" : Latency(g.HostLatencyNs));
        }
        cells.Add(FormatBytes(v.Stats.ResidentBytes));
        cells.Add(v.Finished ? v.ExitCode.ToString(CultureInfo.InvariantCulture) : "");
        table.AddRow([.. cells]);
    }

    /// <summary>p50/p99/max of a latency summary in nanoseconds, shown in microseconds.</summary>
    private static string Latency(LatencySummary l) => l.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture,
        $"{Micro(l.P50)}/{Micro(l.P99)}/{Micro(l.Max)}");

    private static string Micro(double ns) => (ns / 1000).ToString(ns < 10_000 ? "0.00" : ns < 1_000_000 ? "0.0" : "0", CultureInfo.InvariantCulture);

    /// <summary>A VM's interrupt accounting for the JSON summary (zeros when its generator saw no traffic).</summary>
    private static object StormJson(InterruptStats? g)
    {
        static object L(LatencySummary? l) => new
        {
            p50 = Math.Round((l?.P50 ?? 0) / 1000, 3),
            p99 = Math.Round((l?.P99 ?? 0) / 1000, 3),
            max = Math.Round((l?.Max ?? 0) / 1000, 3),
        };
        return new
        {
            samples = g?.VirtualLatencyNs.Count ?? 0,
            virtualMicroseconds = L(g?.VirtualLatencyNs),
            hostMicroseconds = L(g?.HostLatencyNs),
        };
    }

    private static void WriteSummaryTable(CliContext context, FleetCompleted r)
    {
        IAnsiConsole console = context.IsProcessConsole
            ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) })
            : AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Error), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });
        if (!context.IsProcessConsole || Console.IsErrorRedirected)
        {
            console.Profile.Width = HasStorm(r.Status.Vms) ? 230 : 160; // a file or a pipe: no terminal width to fit
        }
        FleetStatus s = r.Status;
        var table = new Table().Border(TableBorder.Rounded);
        ulong executed = 0;
        foreach (VmStatus v in s.Vms)
        {
            executed += v.Stats.Executed;
        }
        table.Title = new TableTitle($"{(r.Interrupted ? "stopped" : "done")}: {s.Vms.Count} VMs in {s.WallSeconds:F2} s, {executed / Math.Max(s.WallSeconds, 1e-9) / 1e6:F1} guest MIPS in all; {Counts(s)}");
        bool storm = HasStorm(s.Vms);
        AddColumns(table, storm);
        const int maxRows = 50;
        IEnumerable<VmStatus> rows = s.Vms.Count <= maxRows ? s.Vms : s.Vms.OrderBy(v => v.ExitCode == 0).Take(maxRows);
        foreach (VmStatus v in rows)
        {
            AddRow(table, v, storm);
        }
        if (s.Vms.Count > maxRows)
        {
            table.Caption = new TableTitle($"{s.Vms.Count - maxRows} more VMs in summary.json");
        }
        console.Write(table);
        foreach (VmStatus v in s.Vms.Where(v => v.Error is not null).Take(5))
        {
            context.Error.WriteLine($"hv: {v.Name}: {v.Error}");
        }
    }

    internal static string SummaryJson(FleetCompleted r, string dir)
    {
        FleetStatus s = r.Status;
        ulong executed = 0, instret = 0;
        foreach (VmStatus v in s.Vms)
        {
            executed += v.Stats.Executed;
            instret += v.Stats.Instret;
        }
        var summary = new
        {
            exitCode = ExitCode(r),
            end = r.TimeLimit ? "TimeLimit" : r.Interrupted ? "Stopped" : "Completed",
            stopReason = r.StopReason,
            wallSeconds = Math.Round(s.WallSeconds, 6),
            instret,
            mips = Math.Round(executed / Math.Max(s.WallSeconds, 1e-9) / 1e6, 3),
            fleetTime = s.FleetTime,
            slices = s.SlicesGranted,
            outputDir = dir,
            vms = s.Vms.Select(v => new
            {
                name = v.Name,
                exitCode = v.ExitCode,
                guestCode = v.Stats.ExitCode,
                end = v.Phase.ToString(),
                state = v.Phase.ToString(),
                instret = v.Stats.Instret,
                mips = Math.Round(v.Stats.Mips, 3),
                engine = v.Stats.Engine,
                weight = v.Weight,
                cap = v.CapPercent,
                interrupts = v.Stats.Interrupts,
                raised = v.Stats.Storm?.Raised ?? 0,
                delivered = v.Stats.Storm?.Delivered ?? 0,
                coalesced = v.Stats.Storm?.Coalesced ?? 0,
                deferred = v.Stats.Storm?.Deferred ?? 0,
                lost = v.Stats.Storm?.Lost ?? 0,
                pendingInterrupts = v.Stats.Storm?.Pending ?? 0,
                latency = StormJson(v.Stats.Storm),
                interruptSources = v.Stats.Storm?.Sources.Select(x => new
                {
                    source = x.Source,
                    raised = x.Raised,
                    delivered = x.Delivered,
                    coalesced = x.Coalesced,
                    deferred = x.Deferred,
                    lost = x.Lost,
                    pending = x.Pending,
                    claims = x.Claims,
                }) ?? [],
                residentBytes = v.Stats.ResidentBytes,
                hostSeconds = Math.Round(v.Stats.HostSeconds, 6),
                virtualTime = v.Stats.VirtualTime,
                timeMode = v.Stats.TimeMode,
                slices = v.Stats.Slices,
                error = v.Error,
            }),
        };
        return JsonSerializer.Serialize(summary);
    }

    private static string FormatBytes(long b) => b >= 1 << 20 ? $"{b / 1048576.0:F1} MiB" : $"{b / 1024.0:F0} KiB";

    private static string FormatTicks(ulong ticks) => ticks == ulong.MaxValue ? "-" : $"{ticks / 1e7:F3} s";

    /// <summary>VM console lines for the terminal: streamed with a [vm] prefix, or kept for the live table's panel.</summary>
    private sealed class TerminalSink(CliContext context, bool enabled, bool live) : IConsoleSink
    {
        private readonly Queue<string> _recent = new();
        private readonly object _lock = new();

        public void Line(string vm, string text)
        {
            if (!enabled)
            {
                return;
            }
            string line = $"[{vm}] {text}";
            lock (_lock)
            {
                if (live)
                {
                    _recent.Enqueue(line);
                    while (_recent.Count > ConsoleLines)
                    {
                        _recent.Dequeue();
                    }
                    return;
                }
                byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
                context.Out.Write(bytes);
            }
        }

        public IReadOnlyList<string> Recent()
        {
            lock (_lock)
            {
                return _recent.ToArray();
            }
        }

        public void Flush()
        {
            lock (_lock)
            {
                context.Out.Flush();
            }
        }
    }

    /// <summary>Serilog events to a text writer (the command's stderr when it is not the process console).</summary>
    private sealed class TextWriterSink(TextWriter writer) : Serilog.Core.ILogEventSink
    {
        public void Emit(LogEvent e)
        {
            lock (writer)
            {
                writer.WriteLine($"hv: [{e.Level}] {e.RenderMessage(CultureInfo.InvariantCulture)}");
            }
        }
    }
}
