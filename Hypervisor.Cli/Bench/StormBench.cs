using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Supervision;
using Hypervisor.Devices;
using Hypervisor.Machine;

namespace Hypervisor.Cli.Bench;

/// <summary>
/// <c>hv bench storm</c>: interrupt storms (docs/benchmarks.md). Two parts, each a measured window
/// of a fleet after a warm-up:
/// <list type="number">
/// <item>Throughput: N VMs run guests/storm, each under an endless steady stream on one generator
/// source, at a sweep of rates; for each rate, the interrupts the guests' handlers took (PLIC claims
/// that delivered an event) and the events they acknowledged per host second across the fleet, and
/// the latency from raise to handler (p50/p99, virtual and host time). The best rate is reported.</item>
/// <item>Neighbours: K CPU-bound VMs (a never-ending loop) beside one VM of the same weight: the
/// storm VM with its source quiet, a CPU-bound VM in its place (it takes its fair share) and the
/// storm VM storming; the neighbours' guest MIPS (each VM's instructions per host second of its own
/// slices, as the live table shows them), their instructions per wall second in all, and the first
/// VM's share of the VMs' host time against its fair share.</item>
/// </list>
/// </summary>
public static class StormBench
{
    public static Command Build(CliContext context)
    {
        var vms = new Option<int>("--vms") { Description = "Storm VMs in the throughput sweep", DefaultValueFactory = _ => 8 };
        var rates = new Option<string>("--rates") { Description = "Events per second of virtual time per VM to sweep (comma-separated; max = one per tick)", DefaultValueFactory = _ => "100k,250k,500k,1M,max" };
        var neighbours = new Option<int>("--neighbours") { Description = "CPU-bound VMs beside the storm VM", DefaultValueFactory = _ => 4 };
        var neighbourRate = new Option<string>("--storm-rate") { Description = "The storm VM's rate in the neighbours part", DefaultValueFactory = _ => "max" };
        var seconds = new Option<double>("--seconds") { Description = "Measured window per run, host seconds", DefaultValueFactory = _ => 5 };
        var warmup = new Option<double>("--warmup") { Description = "Host seconds before each window", DefaultValueFactory = _ => 2 };
        var engine = new Option<string>("--engine") { Description = "Engine of every VM: interp, bt, hybrid", DefaultValueFactory = _ => "bt" };
        var parallelism = new Option<int>("--parallelism") { Description = "Host slots (0 = cores)", DefaultValueFactory = _ => 0 };
        var slice = new Option<ulong>("--slice") { Description = "Instructions per slice", DefaultValueFactory = _ => 1_000_000 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line of stdout" };
        var command = new Command("storm", "Interrupt storms: handled interrupts per host second across a fleet, latency, and the neighbours' MIPS with and without a storm")
        {
            vms, rates, neighbours, neighbourRate, seconds, warmup, engine, parallelism, slice, json,
        };
        command.SetAction(p => Run(context, p.GetValue(vms), p.GetValue(rates)!, p.GetValue(neighbours), p.GetValue(neighbourRate)!,
            p.GetValue(seconds), p.GetValue(warmup), p.GetValue(engine)!, p.GetValue(parallelism), p.GetValue(slice), p.GetValue(json)));
        return command;
    }

    private static long ParseRate(string text)
    {
        string t = text.Trim();
        if (t == "max")
        {
            return TrafficPattern.MaxRate;
        }
        long multiplier = t.EndsWith('k') ? 1_000 : t.EndsWith('M') ? 1_000_000 : 1;
        if (!long.TryParse(multiplier == 1 ? t : t[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n * multiplier < 1 || n * multiplier > TrafficPattern.MaxRate)
        {
            throw new CliException($"'{text}' is not a rate (1000, 250k, 2M or max, at most 10M)");
        }
        return n * multiplier;
    }

    private static int Run(CliContext context, int n, string rateList, int k, string stormRateText, double seconds, double warmup, string engineText,
        int parallelism, ulong slice, bool json)
    {
        BenchArguments.Check(n, k, "--neighbours", seconds, warmup, slice);
        if (!EngineFactory.TryParse(engineText, out EngineKind engine))
        {
            throw new CliException($"--engine: '{engineText}' is not an engine (interp, bt, hybrid)");
        }
        long[] sweep = rateList.Split(',').Select(ParseRate).ToArray();
        long stormRate = ParseRate(stormRateText);
        string storm = Path.GetFullPath(Path.Combine("guests", "bin", "storm.elf"));
        if (!File.Exists(storm))
        {
            throw new CliException("guests/bin/storm.elf: no such file (run hv bench from the repository root)");
        }
        string dir = Path.Combine(Path.GetTempPath(), "hv-bench-storm-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        string cpuLoop = BenchGuests.Write(dir, "cpu-loop", BenchGuests.CpuLoop());
        var settings = new HypervisorSettings
        {
            HostParallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount,
            SliceInstructions = slice,
            TerminalOutput = false,
        };
        VmSpec StormVm(string name, long rate, ulong startTicks = 0) => new()
        {
            Name = name,
            ImagePath = storm,
            Machine = new MachineConfig { MemorySize = 4u << 20, Engine = engine },
            Devices = [new DeviceSpec("storm", 32, 0, startTicks, 0, 0, Rate: rate)],
        };

        // Part 1: the sweep.
        var points = new List<object>();
        (double Rate, double Delivered, double Acked, double Traps, double VP50, double VP99, double HP50, double HP99, double Mips) best = default;
        foreach (long rate in sweep)
        {
            VmSpec[] specs = Enumerable.Range(1, n).Select(i => StormVm($"storm-{i}", rate)).ToArray();
            (FleetStatus a, FleetStatus b, double window, _) = Window(Scenario.Of(settings, specs), seconds, warmup);
            double delivered = Delta(a, b, s => s.Storm?.Delivered ?? 0) / window;
            double acked = Delta(a, b, s => s.Storm?.Acknowledged ?? 0) / window;
            double traps = Delta(a, b, s => s.Interrupts) / window;
            double mips = Delta(a, b, s => (long)s.Executed) / window / 1e6;
            var lat = b.Vms.Select(v => v.Stats.Storm).Where(s => s is not null).Select(s => s!).ToArray();
            double vp50 = Median(lat.Select(s => s.VirtualLatencyNs.P50)), vp99 = Median(lat.Select(s => s.VirtualLatencyNs.P99));
            double hp50 = Median(lat.Select(s => s.HostLatencyNs.P50)), hp99 = Median(lat.Select(s => s.HostLatencyNs.P99));
            long lost = b.Vms.Sum(v => v.Stats.Storm?.Lost ?? 0);
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"hv bench storm: {n} VMs at {RateText(rate)}/s each: {delivered:N0} interrupts handled/s ({acked:N0} events acknowledged/s, {traps:N0} handler entries/s), " +
                $"{mips:F1} guest MIPS, latency p50/p99 virtual {vp50 / 1000:F2}/{vp99 / 1000:F2} us, host {hp50 / 1000:F2}/{hp99 / 1000:F2} us, lost {lost}"));
            points.Add(new
            {
                ratePerVm = rate,
                interruptsHandledPerSecond = Math.Round(delivered),
                eventsAcknowledgedPerSecond = Math.Round(acked),
                handlerEntriesPerSecond = Math.Round(traps),
                guestMips = Math.Round(mips, 1),
                latencyVirtualUs = new { p50 = Math.Round(vp50 / 1000, 3), p99 = Math.Round(vp99 / 1000, 3) },
                latencyHostUs = new { p50 = Math.Round(hp50 / 1000, 3), p99 = Math.Round(hp99 / 1000, 3) },
                lost,
            });
            if (delivered > best.Delivered)
            {
                best = (rate, delivered, acked, traps, vp50, vp99, hp50, hp99, mips);
            }
        }

        // Part 2: the neighbours beside the storm VM when it is quiet (its traffic starts in an hour),
        // when its slot runs one more CPU-bound VM instead (it takes its fair share), and storming.
        VmSpec Cpu(string name) => new()
        {
            Name = name,
            ImagePath = cpuLoop,
            Machine = new MachineConfig { MemorySize = 4u << 20, Engine = engine },
        };
        VmSpec[] Fleet(VmSpec first) => [first, .. Enumerable.Range(1, k).Select(i => Cpu($"cpu-{i}"))];
        var quiet = Neighbours(Scenario.Of(settings, Fleet(StormVm("storm", stormRate, 36_000_000_000UL))), seconds, warmup);
        var busy = Neighbours(Scenario.Of(settings, Fleet(Cpu("busy"))), seconds, warmup);
        var loud = Neighbours(Scenario.Of(settings, Fleet(StormVm("storm", stormRate))), seconds, warmup);
        double lossMips = 1 - loud.NeighbourMips / quiet.NeighbourMips;
        double lossThroughput = 1 - loud.NeighbourThroughput / quiet.NeighbourThroughput;
        double lossVsBusy = 1 - loud.NeighbourThroughput / busy.NeighbourThroughput;
        double fair = 1.0 / (k + 1);
        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"hv bench storm: {k} CPU-bound neighbours of a VM storming at {RateText(stormRate)}/s: neighbour guest MIPS {quiet.NeighbourMips:F1} quiet, " +
            $"{busy.NeighbourMips:F1} beside a busy VM, {loud.NeighbourMips:F1} storming ({-lossMips:+0.0%;-0.0%} vs quiet); " +
            $"their instructions per wall second {quiet.NeighbourThroughput:F1} M quiet, {busy.NeighbourThroughput:F1} M busy, {loud.NeighbourThroughput:F1} M storming " +
            $"({-lossThroughput:+0.0%;-0.0%} vs quiet, {-lossVsBusy:+0.0%;-0.0%} vs busy); " +
            $"the storm VM's share of the VMs' host time {loud.StormShare:P1} wall, {loud.StormCpuShare:P1} CPU (fair share {fair:P1}; the busy VM's {busy.StormShare:P1} wall, {busy.StormCpuShare:P1} CPU), {loud.StormDelivered:N0} interrupts handled/s"));
        if (json)
        {
            context.WriteOutLine(JsonSerializer.Serialize(new
            {
                bench = "storm",
                engine = EngineFactory.Names(engine),
                vms = n,
                hostParallelism = settings.HostParallelism,
                windowSeconds = seconds,
                sweep = points,
                best = new
                {
                    ratePerVm = best.Rate,
                    interruptsHandledPerSecond = Math.Round(best.Delivered),
                    eventsAcknowledgedPerSecond = Math.Round(best.Acked),
                    latencyVirtualUs = new { p50 = Math.Round(best.VP50 / 1000, 3), p99 = Math.Round(best.VP99 / 1000, 3) },
                    latencyHostUs = new { p50 = Math.Round(best.HP50 / 1000, 3), p99 = Math.Round(best.HP99 / 1000, 3) },
                },
                neighbours = new
                {
                    count = k,
                    stormRate,
                    guestMipsQuiet = Math.Round(quiet.NeighbourMips, 1),
                    guestMipsBusy = Math.Round(busy.NeighbourMips, 1),
                    guestMipsStorm = Math.Round(loud.NeighbourMips, 1),
                    guestMipsLoss = Math.Round(lossMips, 4),
                    throughputMipsQuiet = Math.Round(quiet.NeighbourThroughput, 1),
                    throughputMipsBusy = Math.Round(busy.NeighbourThroughput, 1),
                    throughputMipsStorm = Math.Round(loud.NeighbourThroughput, 1),
                    throughputLoss = Math.Round(lossThroughput, 4),
                    throughputLossVsBusy = Math.Round(lossVsBusy, 4),
                    stormHostShare = Math.Round(loud.StormShare, 4),
                    stormCpuShare = Math.Round(loud.StormCpuShare, 4),
                    busyHostShare = Math.Round(busy.StormShare, 4),
                    busyCpuShare = Math.Round(busy.StormCpuShare, 4),
                    fairShare = Math.Round(fair, 4),
                    stormInterruptsHandledPerSecond = Math.Round(loud.StormDelivered),
                },
            }));
        }
        return 0;
    }

    private static string RateText(long rate) => rate == TrafficPattern.MaxRate ? "max (10M)" : rate.ToString("N0", CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> values)
    {
        double[] v = values.Order().ToArray();
        return v.Length == 0 ? 0 : v[v.Length / 2];
    }

    private static double Delta(FleetStatus a, FleetStatus b, Func<Actors.Vm.VmStats, long> f) =>
        b.Vms.Select((v, i) => (double)(f(v.Stats) - f(a.Vms[i].Stats))).Sum();

    /// <summary>Status snapshots at the two ends of a window after a warm-up; the fleet is then stopped.</summary>
    private static (FleetStatus A, FleetStatus B, double Window, double CpuSeconds) Window(Scenario scenario, double seconds, double warmup)
    {
        return Task.Run(async () =>
        {
            await using FleetHost host = FleetHost.Start(scenario, new SupervisorOptions());
            await Task.Delay(TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
            var process = Process.GetCurrentProcess();
            process.Refresh();
            TimeSpan cpu0 = process.TotalProcessorTime;
            FleetStatus a = await host.StatusAsync().ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
            FleetStatus b = await host.StatusAsync().ConfigureAwait(false);
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
            host.Stop("benchmark window over");
            await host.Completion.ConfigureAwait(false);
            if (b.Vms.Any(v => v.Finished))
            {
                throw new CliException($"a VM finished inside the window ({string.Join(", ", b.Vms.Where(v => v.Finished).Select(v => $"{v.Name}: {v.Phase} {v.Error}"))})");
            }
            return (a, b, b.WallSeconds - a.WallSeconds, cpu);
        }).GetAwaiter().GetResult();
    }

    private static (double NeighbourMips, double NeighbourThroughput, double StormShare, double StormDelivered, double StormCpuShare) Neighbours(Scenario scenario, double seconds, double warmup)
    {
        (FleetStatus a, FleetStatus b, double window, _) = Window(scenario, seconds, warmup);
        var executed = b.Vms.Select((v, i) => (double)(v.Stats.Executed - a.Vms[i].Stats.Executed)).ToArray();
        var host = b.Vms.Select((v, i) => v.Stats.HostSeconds - a.Vms[i].Stats.HostSeconds).ToArray();
        // VM 0 is the storm VM; the rest are the neighbours.
        double mips = Enumerable.Range(1, b.Vms.Count - 1).Average(i => executed[i] / host[i] / 1e6);
        double throughput = executed.Skip(1).Sum() / window / 1e6;
        double share = host[0] / host.Sum();
        var cpu = b.Vms.Select((v, i) => v.Stats.CpuSeconds - a.Vms[i].Stats.CpuSeconds).ToArray();
        double cpuShare = cpu.Sum() > 0 ? cpu[0] / cpu.Sum() : double.NaN;
        double delivered = ((b.Vms[0].Stats.Storm?.Delivered ?? 0) - (a.Vms[0].Stats.Storm?.Delivered ?? 0)) / window;
        return (mips, throughput, share, delivered, cpuShare);
    }
}
