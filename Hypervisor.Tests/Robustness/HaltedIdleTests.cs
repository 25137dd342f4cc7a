using Hypervisor.Actors.Config;
using Hypervisor.Actors.Supervision;
using Hypervisor.Machine;
using Hypervisor.Monitor;
using Hypervisor.Tests.Actors;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Robustness;

/// <summary>
/// A VM that can never wake -- WFI with no timer and no external interrupt enabled (hostile-sleep) --
/// is reported HaltedIdle (exit code 126) at once, instead of being polled, also when device
/// actors keep raising its interrupt lines and in realtime mode.
/// </summary>
public sealed class HaltedIdleTests
{
    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public async Task A_vm_that_can_never_wake_is_halted_idle_even_with_devices_raising_its_lines(EngineKind engine)
    {
        VmSpec alone = RobustFleet.Guest("hostile-sleep", engine, "alone", memory: 4u << 20);
        VmSpec pulsed = RobustFleet.Guest("hostile-sleep", engine, "pulsed", memory: 4u << 20) with
        {
            Devices =
            [
                new DeviceSpec("pulse", 33, PeriodTicks: 1_000, StartTicks: 1_000, WidthTicks: 100, Count: 0),
                new DeviceSpec("storm", 34, PeriodTicks: 0, StartTicks: 0, WidthTicks: 0, Count: 0, Rate: 1_000_000),
            ],
        };
        VmSpec realtime = RobustFleet.Guest("hostile-sleep", engine, "realtime", memory: 4u << 20) with
        {
            Machine = new MachineConfig { MemorySize = 4u << 20, Engine = engine, TimeMode = TimeMode.Realtime },
        };
        VmSpec neighbour = RobustFleet.Guest("hello", engine, memory: 4u << 20);

        (FleetCompleted done, string dir) = await RobustFleet.RunAsync(Scenario.Of(FleetRun.Settings(), alone, pulsed, realtime, neighbour));

        Assert.False(done.Interrupted); // the fleet ended by itself: nothing waited for the sleepers
        foreach (string vm in new[] { "alone", "pulsed", "realtime" })
        {
            VmStatus v = RobustFleet.Of(done.Status, vm);
            Assert.Equal(VmPhase.HaltedIdle, v.Phase);
            Assert.Equal(126, v.ExitCode);
            Assert.Equal("hostile-sleep: every interrupt disabled; sleeping in WFI forever\n", FleetRun.Transcript(dir, vm));
            Assert.True(v.Stats.Executed < 1_000, $"{vm} executed {v.Stats.Executed} instructions: it was polled");
        }
        RobustFleet.EndedAsAlone(done, dir, "hello", "hello");
    }

    [Fact]
    public void Hv_run_reports_it_with_exit_code_126()
    {
        CliResult r = CliHarness.Run(null, "run", RepoPaths.Guest("hostile-sleep"));

        Assert.Equal(126, r.ExitCode);
        Assert.Contains("halted: idle in WFI with nothing that can wake it", r.Error);
    }

    [Fact]
    public async Task A_sleeper_with_an_external_interrupt_enabled_is_parked_not_halted_and_wakes()
    {
        // The same idea with MEIE on and PLIC source 40 enabled: a device can wake it, and does.
        VmSpec vm = FleetRun.Vm("irq", ActorGuests.WaitForPlic(40, count: 2)) with
        {
            Devices = [new DeviceSpec("pulse", 40, PeriodTicks: 20_000, StartTicks: 5_000, WidthTicks: 1, Count: 0)],
        };

        (FleetCompleted done, _) = await RobustFleet.RunAsync(Scenario.Of(FleetRun.Settings(), vm));

        Assert.Equal(VmPhase.PoweredOff, RobustFleet.Of(done.Status, "irq").Phase);
        Assert.Equal(40, RobustFleet.Of(done.Status, "irq").ExitCode);
    }
}
