using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Actors.Supervision;
using Hypervisor.Devices;
using Hypervisor.Machine;
using Hypervisor.Tests.Actors;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Storms;

/// <summary>
/// guests/storm in a fleet under host traffic (a storm of one event per tick, bursts, a Poisson
/// stream) through the device actors, the monitor and the VM actor: zero lost, the identities,
/// the rate limit's deferral, and the same numbers whatever the host did.
/// </summary>
public sealed class StormFleetTests
{
    private const long StormEvents = 5_000, BurstEvents = 10 * 16, PoissonEvents = 200;

    private static VmSpec StormVm(string name, string engine = "interp", long rateLimit = 0) => FleetRun.Vm(name, FleetRun.Guest("storm")) with
    {
        Machine = EngineMatrix.Config(engine) with { MemorySize = 4u << 20 },
        InterruptRateLimit = rateLimit,
        Devices =
        [
            new DeviceSpec("storm", 32, 0, StartTicks: 1_000, 0, 0, Rate: TrafficPattern.MaxRate, DurationTicks: (ulong)StormEvents),
            new DeviceSpec("burst", 33, PeriodTicks: 2_000, 0, 0, Count: 10, Burst: 16),
            new DeviceSpec("poisson", 34, 0, 0, 0, Count: PoissonEvents, Rate: 200_000, Seed: 5),
        ],
    };

    private static VmStatus Of(FleetCompleted done, string vm) => done.Status.Vms.Single(v => v.Name == vm);

    /// <summary>What two runs must agree on.</summary>
    private static string Figures(VmStatus v)
    {
        InterruptStats g = v.Stats.Storm!;
        return $"{v.Stats.Instret}/{v.Stats.Cycle} {g.Raised}/{g.Delivered}/{g.Coalesced}/{g.Deferred}/{g.Lost}/{g.Claims} " +
               $"{g.VirtualLatencyNs} [{string.Join(";", g.Sources)}]";
    }

    [Theory]
    [InlineData("interp")]
    [InlineData("bt")]
    [InlineData("hybrid-mode-split")]
    public async Task Under_host_traffic_the_storm_guest_handles_every_event_on_each_engine(string engine)
    {
        (FleetCompleted done, string dir) = await FleetRun.RunAsync(Scenario.Of(FleetRun.Settings(), StormVm("storm", engine)));

        VmStatus v = Of(done, "storm");
        Assert.Equal(VmPhase.PoweredOff, v.Phase);
        Assert.Equal(0, v.ExitCode);
        InterruptStats g = Assert.IsType<InterruptStats>(v.Stats.Storm);
        Assert.Equal(0, g.Lost);
        Assert.Equal(StormEvents + BurstEvents + PoissonEvents, g.Raised);
        Assert.Equal(g.Raised, g.Delivered + g.Coalesced);
        Assert.Equal(g.Raised, g.Acknowledged);
        Assert.Equal(0, g.Pending);
        Assert.Equal(3, g.Sources.Count);
        Assert.Contains("none lost", FleetRun.Transcript(dir, "storm"));
    }

    [Fact]
    public async Task A_storm_gives_the_same_numbers_twice_whatever_the_slots_slices_and_windows()
    {
        Scenario Fleet(HypervisorSettings s) => Scenario.Of(s, StormVm("plain"), StormVm("limited", rateLimit: 150_000));

        (FleetCompleted one, string dirOne) = await FleetRun.RunAsync(Fleet(FleetRun.Settings(parallelism: 2, slice: 100_000)));
        (FleetCompleted two, string dirTwo) = await FleetRun.RunAsync(Fleet(FleetRun.Settings(parallelism: 1, slice: 7_000) with { SourceWindowTicks = 3_000 }));

        foreach (string vm in new[] { "plain", "limited" })
        {
            Assert.Equal(0, Of(one, vm).ExitCode);
            Assert.Equal(Figures(Of(one, vm)), Figures(Of(two, vm)));
            Assert.Equal(FleetRun.Transcript(dirOne, vm), FleetRun.Transcript(dirTwo, vm));
        }
    }

    [Fact]
    public async Task The_rate_limit_defers_events_never_drops_them_and_the_guest_counts_them_too()
    {
        (FleetCompleted done, string dir) = await FleetRun.RunAsync(Scenario.Of(FleetRun.Settings(), StormVm("limited", rateLimit: 100_000)));

        VmStatus v = Of(done, "limited");
        Assert.Equal(0, v.ExitCode);
        InterruptStats g = v.Stats.Storm!;
        Assert.Equal(StormEvents + BurstEvents + PoissonEvents, g.Raised);
        Assert.Equal(0, g.Lost);
        Assert.True(g.Deferred > StormEvents / 2, $"deferred {g.Deferred}");
        // 100,000 events per second of virtual time: the last one cannot come before 536 k ticks.
        Assert.True(v.Stats.VirtualTime >= (ulong)g.Raised * 100, $"virtual time {v.Stats.VirtualTime}");
        string transcript = FleetRun.Transcript(dir, "limited");
        foreach (SourceStats s in g.Sources)
        {
            Assert.Contains($"source {s.Source}: raised {s.Raised}, handled {s.Raised} in {s.Claims} interrupts, coalesced {s.Coalesced}, deferred {s.Deferred}, lost 0", transcript);
        }
    }
}
