using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Supervision;
using Hypervisor.Cli.Bench;
using Hypervisor.Loading;
using Hypervisor.Machine;
using Hypervisor.Monitor;

namespace Hypervisor.Cli.Commands;

/// <summary>
/// <c>hv bench fairness|weights|scale|idle</c>: the fleet measurements of docs/benchmarks.md,
/// each printing a few result lines (and one JSON object with <c>--json</c>).
/// </summary>
public static class BenchCommand
{
    public static Command Build(CliContext context)
    {
        var bench = new Command("bench", "Measure the fleet: fairness, weights, scale, idle, storm, telemetry");
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line of stdout" };
        var parallelism = new Option<int>("--parallelism") { Description = "Host slots (0 = cores)", DefaultValueFactory = _ => 0 };
        var slice = new Option<ulong>("--slice") { Description = "Instructions per slice", DefaultValueFactory = _ => 1_000_000 };

        var vms = new Option<int>("--vms") { Description = "Number of VMs", DefaultValueFactory = _ => 100 };
        var seconds = new Option<double>("--seconds") { Description = "Measured window, host seconds", DefaultValueFactory = _ => 20 };
        var warmup = new Option<double>("--warmup") { Description = "Host seconds before the window opens", DefaultValueFactory = _ => 5 };
        var fairness = new Command("fairness", "N equal-weight CPU-bound VMs (bench-compute): Jain's index of instructions retired in a window")
        {
            vms, seconds, warmup, parallelism, slice, json,
        };
        fairness.SetAction(p => Fairness(context, p.GetValue(vms), p.GetValue(seconds), p.GetValue(warmup), p.GetValue(parallelism), p.GetValue(slice), p.GetValue(json)));

        var perGroup = new Option<int>("--per-weight") { Description = "VMs of each weight", DefaultValueFactory = _ => 8 };
        var weightSeconds = new Option<double>("--seconds") { Description = "Measured window, host seconds", DefaultValueFactory = _ => 20 };
        var weightWarmup = new Option<double>("--warmup") { Description = "Host seconds before the window opens", DefaultValueFactory = _ => 3 };
        var weights = new Command("weights", "CPU-bound VMs (a never-ending loop) of weights 1, 2 and 4: each group's share of instructions vs its target")
        {
            perGroup, weightSeconds, weightWarmup, parallelism, slice, json,
        };
        weights.SetAction(p => Weights(context, p.GetValue(perGroup), p.GetValue(weightSeconds), p.GetValue(weightWarmup), p.GetValue(parallelism), p.GetValue(slice), p.GetValue(json)));

        var scaleVms = new Option<int>("--vms") { Description = "Number of minios VMs", DefaultValueFactory = _ => 1000 };
        var image = new Option<string>("--image") { Description = "Guest to run", DefaultValueFactory = _ => Path.Combine("guests", "bin", "minios.elf") };
        var scale = new Command("scale", "N minios VMs to completion: aggregate MIPS vs one VM alone, peak resident memory")
        {
            scaleVms, image, parallelism, slice, json,
        };
        scale.SetAction(p => Scale(context, p.GetValue(scaleVms), p.GetValue(image)!, p.GetValue(parallelism), p.GetValue(slice), p.GetValue(json)));

        var idleVms = new Option<int>("--vms") { Description = "Number of idle VMs", DefaultValueFactory = _ => 10_000 };
        var tick = new Option<string>("--tick") { Description = "Guest timer period (realtime)", DefaultValueFactory = _ => "1s" };
        var idle = new Command("idle", "N mostly-idle VMs (WFI with a timer tick, realtime): host CPU while they stay up")
        {
            idleVms, tick, seconds, warmup, parallelism, json,
        };
        idle.SetAction(p => Idle(context, p.GetValue(idleVms), p.GetValue(tick)!, p.GetValue(seconds), p.GetValue(warmup), p.GetValue(parallelism), p.GetValue(json)));

        // Bad numbers are parse errors (one line, exit code 2), not exceptions in the middle of a run.
        AtLeast(vms, 1);
        AtLeast(perGroup, 1);
        AtLeast(scaleVms, 1);
        AtLeast(idleVms, 1);
        AtLeast(parallelism, 0);
        Positive(seconds);
        Positive(weightSeconds);
        NotNegative(warmup);
        NotNegative(weightWarmup);
        slice.Validators.Add(r =>
        {
            if (Parsed(r, out ulong v) && v is < 1_000 or > 1_000_000_000)
            {
                r.AddError($"{r.Option.Name}: must be between 1000 and 1000000000 (got {v})");
            }
        });

        bench.Subcommands.Add(fairness);
        bench.Subcommands.Add(weights);
        bench.Subcommands.Add(scale);
        bench.Subcommands.Add(idle);
        bench.Subcommands.Add(TelemetryBench.Build(context));
        bench.Subcommands.Add(StormBench.Build(context));
        return bench;
    }

    /// <summary>
    /// The option's value, or false when it did not parse: the parser reports that itself, in one
    /// line, and a validator that asked for the value anyway would throw instead.
    /// </summary>
    private static bool Parsed<T>(System.CommandLine.Parsing.OptionResult r, out T value)
    {
        try
        {
            value = r.GetValueOrDefault<T>()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    private static void AtLeast(Option<int> option, int least) => option.Validators.Add(r =>
    {
        if (Parsed(r, out int v) && v < least)
        {
            r.AddError($"{option.Name}: must be at least {least} (got {v})");
        }
    });

    private static void Positive(Option<double> option) => option.Validators.Add(r =>
    {
        if (Parsed(r, out double v) && !(v > 0) || double.IsInfinity(v) || v > 86_400)
        {
            r.AddError($"{option.Name}: must be a number of seconds above 0 and at most a day (got {v})");
        }
    });

    private static void NotNegative(Option<double> option) => option.Validators.Add(r =>
    {
        if (Parsed(r, out double v) && !(v >= 0) || double.IsInfinity(v) || v > 86_400)
        {
            r.AddError($"{option.Name}: must be a number of seconds from 0 to a day (got {v})");
        }
    });

    private static HypervisorSettings Settings(int parallelism, ulong slice) => new()
    {
        HostParallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount,
        SliceInstructions = slice,
        TerminalOutput = false,
    };

    private static VmSpec Vm(string name, string image, uint memory, int weight = 1, TimeMode mode = TimeMode.Virtual) => new()
    {
        Name = name,
        ImagePath = Path.GetFullPath(image),
        Weight = weight,
        Machine = new MachineConfig { MemorySize = memory, TimeMode = mode },
    };

    private static string BenchCompute() => Existing(Path.Combine("guests", "bin", "bench-compute.elf"));

    private static string Existing(string path) =>
        File.Exists(path) ? Path.GetFullPath(path) : throw new CliException($"{path}: no such file (run hv bench from the repository root)");

    /// <summary>Instructions each VM executed between two status snapshots taken <paramref name="seconds"/> apart after a warm-up.</summary>
    private static async Task<(ulong[] Executed, double Window, FleetStatus End)> Window(Scenario scenario, double seconds, double warmup)
    {
        await using FleetHost host = FleetHost.Start(scenario, new SupervisorOptions());
        await Task.Delay(TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
        FleetStatus a = await host.StatusAsync().ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
        FleetStatus b = await host.StatusAsync().ConfigureAwait(false);
        host.Stop("benchmark window over");
        await host.Completion.ConfigureAwait(false);
        if (b.Vms.Any(v => v.Finished))
        {
            throw new CliException("a VM finished inside the window; use a shorter window");
        }
        ulong[] executed = b.Vms.Select((v, i) => v.Stats.Executed - a.Vms[i].Stats.Executed).ToArray();
        return (executed, b.WallSeconds - a.WallSeconds, b);
    }

    private static int Fairness(CliContext context, int n, double seconds, double warmup, int parallelism, ulong slice, bool json)
    {
        string image = BenchCompute();
        VmSpec[] vms = Enumerable.Range(1, n).Select(i => Vm($"cpu-{i}", image, 4u << 20)).ToArray();
        (ulong[] x, double window, _) = Window(Scenario.Of(Settings(parallelism, slice), vms), seconds, warmup).GetAwaiter().GetResult();
        double sum = x.Sum(v => (double)v), sumSq = x.Sum(v => (double)v * v);
        double jain = sum * sum / (n * sumSq);
        double min = x.Min(), max = x.Max();
        Report(context, json, new
        {
            bench = "fairness",
            vms = n,
            windowSeconds = Math.Round(window, 3),
            jainIndex = Math.Round(jain, 5),
            minInstructions = min,
            maxInstructions = max,
            meanInstructions = Math.Round(sum / n),
            aggregateMips = Math.Round(sum / window / 1e6, 1),
        }, $"fairness: {n} VMs, {window:F1} s window: Jain's index {jain:F5} (min {min / 1e6:F1} M, max {max / 1e6:F1} M instructions), {sum / window / 1e6:F1} guest MIPS in all");
        return 0;
    }

    private static int Weights(CliContext context, int perGroup, double seconds, double warmup, int parallelism, ulong slice, bool json)
    {
        string image = BenchGuests.Write(BenchDir(), "cpu-loop", BenchGuests.CpuLoop());
        int[] weights = [1, 2, 4];
        VmSpec[] vms = weights.SelectMany(w => Enumerable.Range(1, perGroup).Select(i => Vm($"w{w}-{i}", image, 4u << 20, w))).ToArray();
        (ulong[] x, double window, _) = Window(Scenario.Of(Settings(parallelism, slice), vms), seconds, warmup).GetAwaiter().GetResult();
        double total = x.Sum(v => (double)v);
        var groups = weights.Select((w, g) =>
        {
            double got = x.Skip(g * perGroup).Take(perGroup).Sum(v => (double)v) / total;
            double target = (double)w / weights.Sum();
            return new { weight = w, share = Math.Round(got, 5), target = Math.Round(target, 5), relativeError = Math.Round((got - target) / target, 5) };
        }).ToArray();
        // Each VM against its own target (weight / total weight).
        double totalWeight = vms.Sum(v => v.Weight);
        double worstVm = vms.Select((v, i) => Math.Abs(x[i] / total - v.Weight / totalWeight) / (v.Weight / totalWeight)).Max();
        Report(context, json, new { bench = "weights", perWeight = perGroup, windowSeconds = Math.Round(window, 3), groups, worstVmRelativeError = Math.Round(worstVm, 5) },
            $"weights 1:2:4 ({perGroup} VMs each), {window:F1} s window: " +
            string.Join("; ", groups.Select(g => $"weight {g.weight}: share {g.share:P2} (target {g.target:P2}, {g.relativeError:+0.00%;-0.00%;0.00%})")) +
            $"; worst single VM {worstVm:P2} off its target");
        return 0;
    }

    private static int Scale(CliContext context, int n, string imagePath, int parallelism, ulong slice, bool json)
    {
        string image = Existing(imagePath);
        var elf = ElfImage.Load(image);
        // One VM alone, on this thread, run again and again for 2 s before and 2 s after the fleet
        // (host load drifts): the reference guest MIPS, per wall second and per CPU second.
        var process = Process.GetCurrentProcess();
        (double aloneBefore, double aloneCpuBefore) = Alone(elf, process, TimeSpan.FromSeconds(2));
        HypervisorSettings settings = Settings(parallelism, slice);
        VmSpec[] vms = Enumerable.Range(1, n).Select(i => Vm($"vm-{i}", image, 4u << 20)).ToArray();
        long gcBefore = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        TimeSpan fleetCpu0 = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        FleetCompleted done = RunToEnd(Scenario.Of(settings, vms));
        wall.Stop();
        process.Refresh();
        double fleetCpu = (process.TotalProcessorTime - fleetCpu0).TotalSeconds;
        ulong executed = 0;
        foreach (VmStatus v in done.Status.Vms)
        {
            executed += v.Stats.Executed;
        }
        int passed = done.Status.Vms.Count(v => v.ExitCode == 0);
        double fleetMips = executed / wall.Elapsed.TotalSeconds / 1e6;
        (double aloneAfter, double aloneCpuAfter) = Alone(elf, process, TimeSpan.FromSeconds(2));
        double alone = (aloneBefore + aloneAfter) / 2, aloneCpu = (aloneCpuBefore + aloneCpuAfter) / 2;
        long peak = process.PeakWorkingSet64;
        double fleetMipsCpu = executed / fleetCpu / 1e6;
        long resident = done.Status.Vms.Sum(v => v.Stats.ResidentBytes);
        Report(context, json, new
        {
            bench = "scale",
            vms = n,
            passed,
            hostParallelism = settings.HostParallelism,
            wallSeconds = Math.Round(wall.Elapsed.TotalSeconds, 3),
            instructions = executed,
            fleetMips = Math.Round(fleetMips, 1),
            aloneMips = Math.Round(alone, 1),
            ratio = Math.Round(fleetMips / alone, 3),
            perSlotEfficiency = Math.Round(fleetMips / (alone * Math.Min(settings.HostParallelism, Environment.ProcessorCount)), 3),
            fleetMipsPerCpuSecond = Math.Round(fleetMipsCpu, 1),
            aloneMipsPerCpuSecond = Math.Round(aloneCpu, 1),
            cpuRatio = Math.Round(fleetMipsCpu / aloneCpu, 3),
            fleetCpuSeconds = Math.Round(fleetCpu, 2),
            peakWorkingSetMiB = Math.Round(peak / 1048576.0, 1),
            guestResidentMiB = Math.Round(resident / 1048576.0, 1),
            managedHeapBeforeMiB = Math.Round(gcBefore / 1048576.0, 1),
        }, $"scale: {passed}/{n} VMs passed in {wall.Elapsed.TotalSeconds:F2} s on {settings.HostParallelism} slots: fleet {fleetMips:F1} guest MIPS vs one VM alone {alone:F1} " +
           $"(ratio {fleetMips / alone:F2}, per-slot efficiency {fleetMips / (alone * Math.Min(settings.HostParallelism, Environment.ProcessorCount)):F2}); " +
           $"per CPU second {fleetMipsCpu:F1} vs {aloneCpu:F1} (ratio {fleetMipsCpu / aloneCpu:F2}); peak working set {peak / 1048576.0:F0} MiB, guest RAM resident {resident / 1048576.0:F0} MiB");
        return passed == n ? 0 : 1;
    }

    /// <summary>Runs the guest alone in fresh VMs on this thread for at least <paramref name="time"/> (after one warm-up run).</summary>
    private static (double Mips, double MipsPerCpuSecond) Alone(ElfImage elf, Process process, TimeSpan time)
    {
        new GuestRunner(new VirtualMachine("warm-up", elf, new MachineConfig { MemorySize = 4u << 20 })).Run();
        process.Refresh();
        TimeSpan cpu0 = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        ulong executed = 0;
        while (wall.Elapsed < time)
        {
            var vm = new VirtualMachine("alone", elf, new MachineConfig { MemorySize = 4u << 20 });
            new GuestRunner(vm).Run();
            executed += vm.State.Executed;
        }
        wall.Stop();
        process.Refresh();
        return (executed / wall.Elapsed.TotalSeconds / 1e6, executed / (process.TotalProcessorTime - cpu0).TotalSeconds / 1e6);
    }

    private static int Idle(CliContext context, int n, string tickText, double seconds, double warmup, int parallelism, bool json)
    {
        if (!ScenarioLoader.TryParseDuration(tickText, out TimeSpan tick) || tick <= TimeSpan.Zero)
        {
            throw new CliException($"--tick: '{tickText}' is not a duration (e.g. 1s, 100ms)");
        }
        string image = BenchGuests.Write(BenchDir(), "idle", BenchGuests.IdleTicker((uint)tick.Ticks));
        HypervisorSettings settings = Settings(parallelism, 1_000_000);
        VmSpec[] vms = Enumerable.Range(1, n).Select(i => Vm($"idle-{i}", image, 64u << 10, mode: TimeMode.Realtime)).ToArray();
        var wallStart = Stopwatch.StartNew();
        var process = Process.GetCurrentProcess();
        FleetStatus a, b;
        double cpu;
        double window;
        long peak;
        using (var cts = new CancellationTokenSource())
        {
            var task = Task.Run(async () =>
            {
                await using FleetHost host = FleetHost.Start(Scenario.Of(settings, vms), new SupervisorOptions());
                await Task.Delay(TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
                process.Refresh();
                TimeSpan cpu0 = process.TotalProcessorTime;
                FleetStatus s0 = await host.StatusAsync().ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
                FleetStatus s1 = await host.StatusAsync().ConfigureAwait(false);
                process.Refresh();
                TimeSpan cpu1 = process.TotalProcessorTime;
                host.Stop("benchmark window over");
                await host.Completion.ConfigureAwait(false);
                return (s0, s1, (cpu1 - cpu0).TotalSeconds);
            });
            (a, b, cpu) = task.GetAwaiter().GetResult();
            window = b.WallSeconds - a.WallSeconds;
            process.Refresh();
            peak = process.PeakWorkingSet64;
        }
        long wakeups = b.Vms.Sum(v => v.Stats.Interrupts) - a.Vms.Sum(v => v.Stats.Interrupts);
        int up = b.Vms.Count(v => !v.Finished);
        double cpuPercent = cpu / window * 100;
        Report(context, json, new
        {
            bench = "idle",
            vms = n,
            up,
            tickSeconds = tick.TotalSeconds,
            windowSeconds = Math.Round(window, 3),
            timerInterrupts = wakeups,
            interruptsPerSecond = Math.Round(wakeups / window),
            hostCpuPercentOfOneCore = Math.Round(cpuPercent, 1),
            peakWorkingSetMiB = Math.Round(peak / 1048576.0, 1),
        }, $"idle: {up}/{n} VMs up (realtime, {tick.TotalMilliseconds:F0} ms tick), {window:F1} s window: {wakeups / window:F0} timer interrupts/s, " +
           $"host CPU {cpuPercent:F1}% of one core, peak working set {peak / 1048576.0:F0} MiB");
        _ = wallStart;
        return up == n ? 0 : 1;
    }

    private static string BenchDir() => Path.Combine(Path.GetTempPath(), "hv-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

    private static FleetCompleted RunToEnd(Scenario scenario)
    {
        return Task.Run(async () =>
        {
            await using FleetHost host = FleetHost.Start(scenario, new SupervisorOptions());
            return await host.Completion.ConfigureAwait(false);
        }).GetAwaiter().GetResult();
    }

    private static void Report(CliContext context, bool json, object result, string line)
    {
        context.Error.WriteLine("hv bench " + line);
        if (json)
        {
            context.WriteOutLine(JsonSerializer.Serialize(result));
        }
    }
}
