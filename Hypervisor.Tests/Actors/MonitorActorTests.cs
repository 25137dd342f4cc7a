using Akka.Actor;
using Akka.TestKit.Xunit2;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Monitor;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Vm;

namespace Hypervisor.Tests.Actors;

/// <summary>The monitor: isolation of injected interrupts, deterministic rate limiting, quota reports.</summary>
public sealed class MonitorActorTests() : TestKit(FleetHost.ActorSystemConfig(Scenario.Of(FleetRun.Settings()), serilog: false))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public void Interrupts_for_unknown_vms_or_lines_never_reach_the_supervisor_and_are_reported()
    {
        var supervisor = CreateTestProbe();
        var monitor = Sys.ActorOf(MonitorActor.Props(supervisor.Ref));
        Sys.EventStream.Subscribe(TestActor, typeof(IsolationViolation));
        monitor.Tell(new RegisterVm("a", 0, null));

        monitor.Tell(new ScheduleInterrupt("b", 33, true, 10));
        monitor.Tell(new ScheduleInterrupt("a", 64, true, 10));
        monitor.Tell(new ScheduleInterrupt("a", 33, true, 10));

        Assert.Equal("unknown-vm", ExpectMsg<IsolationViolation>(Wait).Rule);
        Assert.Equal("no-such-line", ExpectMsg<IsolationViolation>(Wait).Rule);
        Assert.Equal(new ScheduleInterrupt("a", 33, true, 10), supervisor.ExpectMsg<ScheduleInterrupt>(Wait));
        supervisor.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Events_above_the_rate_limit_are_deferred_in_virtual_time_never_dropped()
    {
        var supervisor = CreateTestProbe();
        var monitor = Sys.ActorOf(MonitorActor.Props(supervisor.Ref));
        monitor.Tell(new RegisterVm("a", 1000, null)); // 1000 per virtual second: one per 10,000 ticks

        for (ulong t = 0; t < 3; t++)
        {
            monitor.Tell(new ScheduleInterrupt("a", 40, true, t * 100));
            monitor.Tell(new ScheduleInterrupt("a", 40, false, t * 100 + 1));
        }

        ulong[] at = Enumerable.Range(0, 6).Select(_ => supervisor.ExpectMsg<ScheduleInterrupt>(Wait).At).ToArray();
        Assert.Equal([0UL, 1UL, 10_000UL, 10_001UL, 20_000UL, 20_001UL], at);
        monitor.Tell(GetMonitorReport.Instance, TestActor);
        Assert.Equal(2, ExpectMsg<MonitorReport>(Wait).DeferredInterrupts["a"]);
    }

    [Fact]
    public void A_vm_hitting_its_memory_quota_is_reported_once()
    {
        var supervisor = CreateTestProbe();
        var monitor = Sys.ActorOf(MonitorActor.Props(supervisor.Ref));
        monitor.Tell(new RegisterVm("a", 0, 1 << 20));
        VmStats stats = VmStats.Empty("a", "interp", "virtual") with { QuotaRefusals = 3, ResidentBytes = 1 << 20 };

        monitor.Tell(new SliceAccounted("a", stats));
        monitor.Tell(new SliceAccounted("a", stats));
        monitor.Tell(GetMonitorReport.Instance, TestActor);

        IsolationViolation v = Assert.Single(ExpectMsg<MonitorReport>(Wait).Violations);
        Assert.Equal("memory-quota", v.Rule);
        _ = FleetExitCodes.HostException;
    }
}
