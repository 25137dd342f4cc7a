using Hypervisor.Actors.Config;
using Hypervisor.Actors.Supervision;

namespace Hypervisor.Tests.Actors;

/// <summary>Whole fleets run through the supervisor: guests reach their end with their exit codes and transcripts.</summary>
public sealed class FleetTests
{
    [Fact]
    public async Task A_small_fleet_runs_every_guest_to_power_off()
    {
        Scenario s = Scenario.Of(FleetRun.Settings(),
            FleetRun.Vm("hello", FleetRun.Guest("hello")),
            FleetRun.Vm("isa", FleetRun.Guest("isa")),
            FleetRun.Vm("minios", FleetRun.Guest("minios"), memory: 8u << 20));

        (FleetCompleted done, string dir) = await FleetRun.RunAsync(s);

        Assert.False(done.Interrupted);
        Assert.All(done.Status.Vms, v => Assert.Equal(VmPhase.PoweredOff, v.Phase));
        Assert.All(done.Status.Vms, v => Assert.Equal(0, v.ExitCode));
        Assert.Equal("Hello from a RISC-V guest!\n", FleetRun.Transcript(dir, "hello"));
        Assert.Contains("all as expected; powering off", FleetRun.Transcript(dir, "minios"));
    }
}
