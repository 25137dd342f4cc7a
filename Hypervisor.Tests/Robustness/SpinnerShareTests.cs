using Hypervisor.Actors.Config;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Supervision;
using Hypervisor.Machine;
using Hypervisor.Tests.Actors;
using Xunit.Abstractions;

namespace Hypervisor.Tests.Robustness;

/// <summary>
/// A CPU hog that masks every interrupt (hostile-spin: never a WFI, a trap or an exit to the monitor,
/// a timer and a software interrupt pending and never taken) gets no more than its weight's share.
/// The window is a number of instructions the whole fleet executes, not host time.
/// </summary>
/// <remarks>
/// The credit scheduler charges a slice the larger of its instructions and its host time at the
/// fleet's reference speed (docs/scheduling.md). Beside loops as fast as itself the spinner's share
/// is therefore exact in instructions; beside slower guests (bench-compute) it is exact in host time,
/// and the spinner, the fastest, gets more instructions but not more of the host than its weight.
/// </remarks>
public sealed class SpinnerShareTests(ITestOutputHelper output)
{
    private const ulong Slice = 20_000;

    /// <summary>
    /// Instructions the whole fleet executes in the measured window. The spinner's share of it (8 M
    /// or less) stays far below what it spins (200 M, room for the window to overshoot while the test
    /// polls a fleet running at 2,000 MIPS), and a slice stalled in the JIT is a small part of it.
    /// </summary>
    private const ulong Window = 40_000_000;

    /// <summary>Instructions every VM executes before the window opens (its hot code compiled).</summary>
    private const ulong WarmUp = 1_000_000;

    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public async Task Beside_loops_as_fast_as_itself_the_spinner_gets_its_weight_of_instructions_and_no_more(EngineKind engine)
    {
        string loop = ActorGuests.Spinner();
        VmSpec Loop(string name, int weight) => FleetRun.Vm(name, loop, weight) with { Machine = new MachineConfig { MemorySize = 64u << 10, Engine = engine } };
        // Weights 1 : 1 : 2 : 1 -- shares 1/5, 1/5, 2/5, 1/5, none above the half a VM can use of 2 slots.
        VmSpec[] vms = [RobustFleet.Guest("hostile-spin", engine, "spinner", weight: 1), Loop("loop-1", 1), Loop("loop-2", 2), Loop("loop-3", 1)];

        (FleetStatus start, FleetStatus end) = await MeasureWindow(vms);

        double[] perWeight = PerWeight(vms, start, end, v => v.Stats.Executed);
        double othersMean = perWeight[1..].Average();
        output.WriteLine($"{EngineFactory.Names(engine)}: instructions per weight in a {Total(end) - Total(start):N0}-instruction window: " +
                         string.Join(", ", vms.Select((v, i) => $"{v.Name} (w{v.Weight}) {perWeight[i]:N0} = {perWeight[i] / othersMean:P1}")));
        // The identical loops split their part by weight (counts are exact to a slice at each end of
        // the window); the spinner gets no more than they do per weight.
        Assert.All(perWeight[1..], p => Assert.InRange(p / othersMean, 0.95, 1.05));
        Assert.True(perWeight[0] <= othersMean * 1.05, $"the spinner got {perWeight[0] / othersMean:P1} of its weight's instructions");
    }

    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public async Task Beside_slower_guests_the_spinner_gets_no_more_than_its_weight_of_the_host(EngineKind engine)
    {
        VmSpec[] vms =
        [
            RobustFleet.Guest("hostile-spin", engine, "spinner", weight: 1),
            RobustFleet.Guest("bench-compute", engine, "compute-1", weight: 1),
            RobustFleet.Guest("bench-compute", engine, "compute-2", weight: 2),
            RobustFleet.Guest("bench-compute", engine, "compute-3", weight: 1),
        ];

        (FleetStatus start, FleetStatus end) = await MeasureWindow(vms);

        // CPU time of the VM threads where the platform tells it (Linux, Windows): time other
        // processes take from the host then counts for nobody, so a loaded CI machine cannot tilt it.
        double[] seconds = PerWeight(vms, start, end, v => v.Stats.CpuSeconds > 0 ? v.Stats.CpuSeconds : v.Stats.HostSeconds);
        double[] instructions = PerWeight(vms, start, end, v => v.Stats.Executed);
        double othersMean = seconds[1..].Average();
        output.WriteLine($"{EngineFactory.Names(engine)}: host CPU ms and instructions per weight in a {Total(end) - Total(start):N0}-instruction window: " +
                         string.Join(", ", vms.Select((v, i) => $"{v.Name} (w{v.Weight}) {seconds[i] * 1e3:F1} ms = {seconds[i] / othersMean:P0}, {instructions[i]:N0}")));
        // Host time is noisy even in CPU seconds (caches, the JIT): a generous bound, still far below
        // what a hog that kept the CPU would show (its weight is a fifth; it would take half of two slots).
        Assert.True(seconds[0] <= othersMean * 1.3, $"the spinner got {seconds[0] / othersMean:P0} of its weight's host time");
    }

    /// <summary>Runs the fleet until every VM has warmed up, then for <see cref="Window"/> more instructions; the two snapshots.</summary>
    private static async Task<(FleetStatus Start, FleetStatus End)> MeasureWindow(VmSpec[] vms)
    {
        Scenario s = Scenario.Of(FleetRun.Settings(parallelism: 2, slice: Slice), vms);
        await using FleetHost host = FleetHost.Start(s, new SupervisorOptions { OutputDir = FleetRun.TempDir() });
        FleetStatus start = await RobustFleet.AwaitStatus(host, st => st.Vms.All(v => v.Stats.Executed >= WarmUp));
        ulong before = Total(start);
        FleetStatus end = await RobustFleet.AwaitStatus(host, st => Total(st) >= before + Window);
        host.Stop("window measured");
        FleetCompleted done = await host.Completion.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(VmPhase.Stopped, RobustFleet.Of(done.Status, "spinner").Phase); // still spinning when the window closed
        return (start, end);
    }

    private static double[] PerWeight(VmSpec[] vms, FleetStatus start, FleetStatus end, Func<VmStatus, double> measure) =>
        vms.Select(v => (measure(RobustFleet.Of(end, v.Name)) - measure(RobustFleet.Of(start, v.Name))) / v.Weight).ToArray();

    private static ulong Total(FleetStatus s) => (ulong)s.Vms.Sum(v => (long)v.Stats.Executed);
}
