using Hypervisor.Actors.Config;
using Hypervisor.Actors.Supervision;
using Hypervisor.Machine;
using Hypervisor.Tests.Actors;

namespace Hypervisor.Tests.Robustness;

/// <summary>
/// Every hostile guest at once, in one fleet beside normal guests, on each engine: the host survives
/// (this process goes on), each hostile guest ends exactly as it does alone, and the neighbours
/// finish with their normal transcripts and exit codes.
/// </summary>
public sealed class HostileFleetTests
{
    private static readonly string[] Hostile =
    [
        "hostile-scan", "hostile-garbage", "hostile-pagetables", "hostile-smcflood", "hostile-spin", "hostile-sleep",
        "hostile-hunt", "hostile-secret", "smc",
    ];

    private static readonly string[] Normal = ["hello", "isa", "minios", "priv", "syscalls"];

    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public async Task Hostile_guests_beside_normal_ones_end_as_they_do_alone_and_the_neighbours_finish(EngineKind engine)
    {
        var vms = new List<VmSpec>();
        vms.AddRange(Hostile.Select(g => RobustFleet.Guest(g, engine)));
        vms.AddRange(Normal.Select(g => RobustFleet.Guest(g, engine)));
        // Touches all of its 16 MiB with a 1 MiB quota: counts the refusals and survives.
        vms.Add(RobustFleet.Guest("hostile-memhog", engine) with { Machine = new MachineConfig { MemorySize = 16u << 20, MemoryQuota = 1 << 20, Engine = engine } });
        // Jumps into nowhere with mtvec = 0: a fatal guest fault, reported.
        vms.Add(FleetRun.Vm("wild", ActorGuests.WildJump()) with { Machine = new MachineConfig { MemorySize = 64u << 10, Engine = engine } });

        (FleetCompleted done, string dir) = await RobustFleet.RunAsync(Scenario.Of(FleetRun.Settings(slice: 100_000), [.. vms]));

        Assert.False(done.Interrupted);
        foreach (string g in Hostile.Concat(Normal))
        {
            RobustFleet.EndedAsAlone(done, dir, g, g);
        }
        VmStatus hog = RobustFleet.Of(done.Status, "hostile-memhog");
        Assert.Equal(VmPhase.PoweredOff, hog.Phase);
        Assert.Equal(0, hog.ExitCode);
        Assert.Contains("refused by store access faults; read back ok", FleetRun.Transcript(dir, "hostile-memhog"));
        Assert.True(hog.Stats.ResidentBytes <= 1 << 20, $"resident {hog.Stats.ResidentBytes}");
        Assert.True(hog.Stats.QuotaRefusals > 3000, $"{hog.Stats.QuotaRefusals} refusals");
        VmStatus wild = RobustFleet.Of(done.Status, "wild");
        Assert.Equal(VmPhase.Faulted, wild.Phase);
        Assert.Equal(125, wild.ExitCode);
        Assert.Contains("trap loop", wild.Error);
        Assert.All(done.Status.Vms, v => Assert.NotEqual(VmPhase.Crashed, v.Phase)); // no host exception anywhere
    }
}
