using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Telemetry;
using Hypervisor.Machine;

namespace Hypervisor.Cli.Bench;

/// <summary>
/// <c>hv bench telemetry</c>: what telemetry costs a fleet. The same CPU-bound fleet runs a
/// measured window in three modes, interleaved round by round (host load drifts): tracing off
/// (no OpenTelemetry pipeline: the per-slice counter copy only), default sampling (the trace file
/// at the fleet default of 1 slice in 100, plus the Prometheus exporter scraped every 5 s)
/// and every slice traced into the trace file. Reports each mode's median guest MIPS (per wall
/// second and per CPU second of the process) and its cost against tracing off.
/// </summary>
public static class TelemetryBench
{
    private enum Mode
    {
        Off,
        DefaultSampling,
        EverySlice,
    }

    public static Command Build(CliContext context)
    {
        var vms = new Option<int>("--vms") { Description = "CPU-bound VMs", DefaultValueFactory = _ => 8 };
        var seconds = new Option<double>("--seconds") { Description = "Measured window per run, host seconds", DefaultValueFactory = _ => 5 };
        var warmup = new Option<double>("--warmup") { Description = "Host seconds before each window", DefaultValueFactory = _ => 1 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of the three modes", DefaultValueFactory = _ => 3 };
        var parallelism = new Option<int>("--parallelism") { Description = "Host slots (0 = cores)", DefaultValueFactory = _ => 0 };
        var slice = new Option<ulong>("--slice") { Description = "Instructions per slice", DefaultValueFactory = _ => 1_000_000 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line of stdout" };
        var command = new Command("telemetry", "Cost of telemetry: fleet MIPS with tracing off, with default sampling and with every slice traced")
        {
            vms, seconds, warmup, rounds, parallelism, slice, json,
        };
        command.SetAction(p => Run(context, p.GetValue(vms), p.GetValue(seconds), p.GetValue(warmup), p.GetValue(rounds), p.GetValue(parallelism),
            p.GetValue(slice), p.GetValue(json)));
        return command;
    }

    private static int Run(CliContext context, int n, double seconds, double warmup, int rounds, int parallelism, ulong slice, bool json)
    {
        BenchArguments.Check(n, rounds, "--rounds", seconds, warmup, slice);
        string dir = Path.Combine(Path.GetTempPath(), "hv-bench-telemetry-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        string image = BenchGuests.Write(dir, "cpu-loop", BenchGuests.CpuLoop());
        var settings = new HypervisorSettings
        {
            HostParallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount,
            SliceInstructions = slice,
            TerminalOutput = false,
        };
        VmSpec[] specs = Enumerable.Range(1, n).Select(i => new VmSpec
        {
            Name = $"cpu-{i}",
            ImagePath = image,
            Machine = new MachineConfig { MemorySize = 4u << 20 },
        }).ToArray();
        // The hooks alone, on this thread: what one slice pays in each mode (host noise barely touches it).
        var hooks = Enum.GetValues<Mode>().ToDictionary(m => m, m => HookCost(m, image, dir, slice));
        foreach ((Mode m, (double ns, double bytes)) in hooks)
        {
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"hv bench telemetry: {Name(m)}: {ns:F0} ns and {bytes:F0} allocated bytes per slice in the telemetry hooks"));
        }
        var results = new Dictionary<Mode, List<(double Mips, double CpuMips, double SlicesPerSecond, long Events)>>();
        for (int r = 0; r < rounds; r++)
        {
            foreach (Mode mode in Enum.GetValues<Mode>())
            {
                var result = Window(mode, Scenario.Of(settings, specs), dir, seconds, warmup).GetAwaiter().GetResult();
                (results.TryGetValue(mode, out var list) ? list : results[mode] = []).Add(result);
                context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"hv bench telemetry: round {r + 1}, {Name(mode)}: {result.Mips:F1} guest MIPS ({result.CpuMips:F1} per CPU second), {result.SlicesPerSecond:F0} slices/s, {result.Events:N0} trace events"));
            }
        }
        double Median(IEnumerable<double> xs)
        {
            double[] s = xs.Order().ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
        }
        double offWall = Median(results[Mode.Off].Select(x => x.Mips));
        double offCpu = Median(results[Mode.Off].Select(x => x.CpuMips));
        var modes = Enum.GetValues<Mode>().Select(m => new
        {
            mode = Name(m),
            mips = Math.Round(Median(results[m].Select(x => x.Mips)), 1),
            mipsMin = Math.Round(results[m].Min(x => x.Mips), 1),
            mipsMax = Math.Round(results[m].Max(x => x.Mips), 1),
            mipsPerCpuSecond = Math.Round(Median(results[m].Select(x => x.CpuMips)), 1),
            slicesPerSecond = Math.Round(Median(results[m].Select(x => x.SlicesPerSecond))),
            costPercent = Math.Round((1 - Median(results[m].Select(x => x.Mips)) / offWall) * 100, 2),
            costPercentCpu = Math.Round((1 - Median(results[m].Select(x => x.CpuMips)) / offCpu) * 100, 2),
            hookNanosecondsPerSlice = Math.Round(hooks[m].Nanoseconds),
            hookBytesPerSlice = Math.Round(hooks[m].Bytes),
            // The hooks' share of the slots' time at the measured slice rate.
            hookCostPercent = Math.Round(hooks[m].Nanoseconds * Median(results[m].Select(x => x.SlicesPerSecond)) / (1e9 * settings.HostParallelism) * 100, 4),
        }).ToArray();
        string line = $"telemetry: {n} VMs, {settings.HostParallelism} slots, {slice:N0}-instruction slices, {rounds} rounds of {seconds:0.#} s: " +
            string.Join("; ", modes.Select(m => string.Create(CultureInfo.InvariantCulture,
                $"{m.mode} {m.mips:F1} MIPS ({m.mipsMin:F1}..{m.mipsMax:F1}), {m.mipsPerCpuSecond:F1} per CPU second, cost {m.costPercent:+0.00;-0.00;0.00}% wall, {m.costPercentCpu:+0.00;-0.00;0.00}% per CPU second, hooks {m.hookNanosecondsPerSlice:F0} ns/slice = {m.hookCostPercent:F4}% of the slots")));
        context.Error.WriteLine("hv bench " + line);
        if (json)
        {
            context.WriteOutLine(JsonSerializer.Serialize(new { bench = "telemetry", vms = n, hostParallelism = settings.HostParallelism, slice, rounds, windowSeconds = seconds, modes }));
        }
        return 0;
    }

    private static string Name(Mode m) => m switch
    {
        Mode.Off => "tracing off",
        Mode.DefaultSampling => "default sampling",
        _ => "every slice traced",
    };

    private static async Task<(double Mips, double CpuMips, double SlicesPerSecond, long Events)> Window(Mode mode, Scenario scenario, string dir, double seconds, double warmup)
    {
        TelemetrySettings telemetry = mode switch
        {
            Mode.Off => new TelemetrySettings(),
            Mode.DefaultSampling => new TelemetrySettings
            {
                TraceFile = Path.Combine(dir, "default.json"),
                SliceSampling = TelemetrySettings.DefaultFleetSampling,
                Exporters = new HashSet<TelemetryExporter> { TelemetryExporter.Prometheus },
                PrometheusPort = FreePort(),
            },
            _ => new TelemetrySettings { TraceFile = Path.Combine(dir, "every.json"), SliceSampling = 1.0 },
        };
        scenario = scenario with { Settings = scenario.Settings with { Telemetry = telemetry } };
        TelemetryPipeline pipeline = TelemetryPipeline.Start(telemetry, expectedVms: scenario.Vms.Count);
        using var scraper = new HttpClient();
        var process = Process.GetCurrentProcess();
        FleetStatus a, b;
        double cpu;
        await using (FleetHost host = FleetHost.Start(scenario, new SupervisorOptions()))
        {
            await Task.Delay(TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
            a = await host.StatusAsync().ConfigureAwait(false);
            process.Refresh();
            TimeSpan cpu0 = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, seconds - clock.Elapsed.TotalSeconds))).ConfigureAwait(false);
                if (pipeline.PrometheusEndpoint is { } url)
                {
                    _ = await scraper.GetStringAsync(url).ConfigureAwait(false); // a scraper every 5 s (in this process: its CPU counts too)
                }
            }
            b = await host.StatusAsync().ConfigureAwait(false);
            process.Refresh();
            cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
            host.Stop("benchmark window over");
            await host.Completion.ConfigureAwait(false);
            pipeline.CollectMetrics();
        }
        long events = pipeline.TraceFile?.Events ?? 0;
        pipeline.Dispose();
        events = pipeline.TraceFile?.Events ?? events;
        double window = b.WallSeconds - a.WallSeconds;
        double executed = b.Vms.Sum(v => (double)v.Stats.Executed) - a.Vms.Sum(v => (double)v.Stats.Executed);
        return (executed / window / 1e6, executed / cpu / 1e6, (b.SlicesGranted - a.SlicesGranted) / window, events);
    }

    /// <summary>Nanoseconds and allocated bytes per slice of the VM telemetry hooks (sampling, span, counter copy, histogram) in a mode.</summary>
    private static (double Nanoseconds, double Bytes) HookCost(Mode mode, string image, string dir, ulong budget)
    {
        TelemetrySettings telemetry = mode switch
        {
            Mode.Off => new TelemetrySettings(),
            Mode.DefaultSampling => new TelemetrySettings { TraceFile = Path.Combine(dir, "hooks-default.json"), SliceSampling = TelemetrySettings.DefaultFleetSampling },
            _ => new TelemetrySettings { TraceFile = Path.Combine(dir, "hooks-every.json"), SliceSampling = 1.0 },
        };
        using TelemetryPipeline pipeline = TelemetryPipeline.Start(telemetry, expectedVms: 1);
        using var fleet = new FleetTelemetry(telemetry, "hooks", 1, budget);
        var vm = new VirtualMachine("hooks", Loading.ElfImage.Load(image), new MachineConfig { MemorySize = 4u << 20 });
        var hooks = new VmTelemetry(fleet, "hooks", 0, vm.Engine.Name);
        hooks.Created(vm, Stopwatch.GetTimestamp());
        var stats = new Actors.Vm.SliceStats(budget, 0.004, 0);
        const int warm = 20_000, n = 200_000;
        for (int i = 1; i <= warm; i++)
        {
            hooks.EndSlice(hooks.BeginSlice(i), i, budget, stats, Actors.Vm.SliceEnd.BudgetExhausted);
        }
        long bytes0 = GC.GetAllocatedBytesForCurrentThread();
        long t0 = Stopwatch.GetTimestamp();
        for (int i = warm + 1; i <= warm + n; i++)
        {
            hooks.EndSlice(hooks.BeginSlice(i), i, budget, stats, Actors.Vm.SliceEnd.BudgetExhausted);
        }
        double ns = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / n;
        double bytes = (GC.GetAllocatedBytesForCurrentThread() - bytes0) / (double)n;
        hooks.Stopping();
        return (ns, bytes);
    }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
