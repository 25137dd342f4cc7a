using Akka.Actor;
using Akka.TestKit.Xunit2;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Monitor;
using Hypervisor.Actors.Scheduling;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Vm;
using Hypervisor.Cpu;
using Hypervisor.Devices;
using Hypervisor.Isa;
using Hypervisor.Loading;
using Hypervisor.Tests.Actors;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Storms;

/// <summary>
/// The monitor's protections against a storm (issue 7), and the actors that carry storm traffic:
/// a guest that keeps interrupts disabled is still preempted at the end of its slice; a storming
/// VM is charged for the host time its dear instructions take, so it cannot take more than its
/// share; traffic device actors publish ahead and promise; the monitor checks lines and defers.
/// </summary>
public sealed class StormProtectionTests() : TestKit(FleetHost.ActorSystemConfig(Scenario.Of(FleetRun.Settings()), serilog: false))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    /// <summary>Enables generator source 32 at the PLIC and in mie, never sets mstatus.MIE, and spins forever.</summary>
    private static string InterruptsOffSpinner()
    {
        var p = new ProgramBuilder();
        p.StoreWord(0x0C00_0000u + 4 * 32, 1);      // priority of source 32
        p.StoreWord(0x0C00_2004u, 1);               // enable source 32 for context 0 (M)
        p.StoreWord(0x1010_0014u, 1);               // generator ENABLE_MAP: source 32
        p.Li(5, InterruptBits.Meip);
        p.Emit(Opcode.Csrrw, 0, 5, imm: CsrAddress.Mie);
        p.Emit(Opcode.Addi, 10, 10, imm: 1);         // mstatus.MIE stays 0: the interrupt can never be taken
        p.Emit(Opcode.Jal, 0, imm: -4);
        return TinyGuests.Write("irq-off-spin", p.Words);
    }

    [Fact]
    public void A_guest_that_keeps_interrupts_disabled_is_still_preempted_at_the_end_of_its_slice()
    {
        string image = InterruptsOffSpinner();
        VmSpec spec = FleetRun.Vm("spin", image) with { Devices = [new DeviceSpec("storm", 32, 0, 0, 0, 0, Rate: TrafficPattern.MaxRate)] };
        IActorRef vm = Sys.ActorOf(VmActor.Props(spec, ElfImage.Load(image), CreateTestProbe().Ref), "spin");
        vm.Tell(new GeneratorEvents("spin", 0, 32, [EventRun.Every(0, 1, 1_000_000)], 0, ulong.MaxValue));

        for (long seq = 1; seq <= 3; seq++)
        {
            vm.Tell(new RunSlice(seq, 20_000, ulong.MaxValue, ulong.MaxValue), TestActor);
            SliceCompleted c = ExpectMsg<SliceCompleted>(Wait);

            Assert.Equal(SliceEnd.BudgetExhausted, c.Reason);
            Assert.Equal(20_000UL, c.Slice.Executed);
            Assert.Equal(0, c.Slice.InterruptsTaken);
            InterruptStats g = c.Stats.Storm!;
            Assert.True(g.Pending > 0 && g.Delivered == 0, $"pending {g.Pending}, delivered {g.Delivered}");
        }
    }

    [Fact]
    public void A_vm_whose_instructions_are_dear_on_the_host_is_charged_for_its_host_time()
    {
        // One slot, equal weights: a storming VM runs 10 MIPS on the host, its neighbour 1,000 MIPS.
        var s = new FleetScheduler(1, 1_000_000, 0, 1_000);
        int storm = s.Add("storm", 1, 0, 0, isVirtual: false);
        int quiet = s.Add("quiet", 1, 0, 0, isVirtual: false);
        var host = new double[2];
        var executed = new double[2];
        for (int i = 0; i < 2_000; i++)
        {
            Grant g = Assert.Single(s.TakeGrants());
            double seconds = g.Budget / (g.Id == storm ? 10e6 : 1_000e6);
            host[g.Id] += seconds;
            executed[g.Id] += g.Budget;
            var stats = VmStats.Empty(g.Id == storm ? "storm" : "quiet", "interp", "realtime");
            s.Completed(g.Id, new SliceCompleted(stats.Name, i, new SliceStats(g.Budget, seconds, 0), stats, SliceEnd.BudgetExhausted, ulong.MaxValue, double.PositiveInfinity));
        }

        double share = host[storm] / (host[storm] + host[quiet]);
        Assert.InRange(share, 0.45, 0.55); // its share of the host, not of the instructions (that would be 99 %)
        Assert.True(executed[quiet] > 50 * executed[storm]);
    }

    [Fact]
    public void Wall_time_lost_to_other_processes_does_not_move_shares()
    {
        // Two equal VMs with the same CPU cost per instruction; one is often preempted by the host
        // (three times the wall time for the same CPU time). Shares stay instruction-exact.
        var s = new FleetScheduler(1, 100_000, 0, 1_000);
        int a = s.Add("a", 1, 0, 0, isVirtual: false);
        int b = s.Add("b", 1, 0, 0, isVirtual: false);
        var executed = new double[2];
        for (int i = 0; i < 1_000; i++)
        {
            Grant g = Assert.Single(s.TakeGrants());
            double cpu = g.Budget / 300e6;
            executed[g.Id] += g.Budget;
            var stats = VmStats.Empty(g.Id == a ? "a" : "b", "interp", "realtime");
            s.Completed(g.Id, new SliceCompleted(stats.Name, i, new SliceStats(g.Budget, g.Id == a ? 3 * cpu : cpu, 0, cpu), stats,
                SliceEnd.BudgetExhausted, ulong.MaxValue, double.PositiveInfinity));
        }

        Assert.Equal(executed[a], executed[b]);
    }

    [Fact]
    public void A_traffic_device_publishes_runs_ahead_and_then_promises_up_to_the_demand()
    {
        var monitor = CreateTestProbe();
        var spec = new DeviceSpec("burst", 40, PeriodTicks: 1_000, StartTicks: 500, 0, Count: 3, Burst: 8);
        IActorRef device = Sys.ActorOf(TrafficDeviceActor.Props("vm", 2, spec, monitor.Ref));

        device.Tell(new DemandEvents("vm", 1_600));
        GeneratorEvents first = monitor.ExpectMsg<GeneratorEvents>(Wait);
        Assert.Equal(new SourceHorizon("vm", 2, 1_600), monitor.ExpectMsg<SourceHorizon>(Wait));
        device.Tell(new DemandEvents("vm", 1_000)); // already covered: nothing new
        device.Tell(new DemandEvents("vm", 10_000));
        GeneratorEvents rest = monitor.ExpectMsg<GeneratorEvents>(Wait);
        Assert.Equal(new SourceHorizon("vm", 2, ulong.MaxValue), monitor.ExpectMsg<SourceHorizon>(Wait));

        Assert.Equal((2, 40, 16L, ulong.MaxValue), (first.Device, first.Source, first.Events, first.EndAt));
        Assert.Equal((8L, 2_501UL), (rest.Events, rest.EndAt));
        monitor.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void The_monitor_refuses_traffic_for_lines_the_generator_does_not_have_and_defers_above_the_limit()
    {
        var supervisor = CreateTestProbe();
        IActorRef monitor = Sys.ActorOf(MonitorActor.Props(supervisor.Ref));
        Sys.EventStream.Subscribe(TestActor, typeof(IsolationViolation));
        monitor.Tell(new RegisterVm("a", 1_000, null, Devices: 1));

        monitor.Tell(new GeneratorEvents("a", 0, 31, [EventRun.Single(0)], 0, ulong.MaxValue));
        monitor.Tell(new GeneratorEvents("a", 0, 40, [EventRun.Single(0, events: 3)], 0, ulong.MaxValue));
        monitor.Tell(new SourceHorizon("a", 0, 100));

        Assert.Equal("no-such-line", ExpectMsg<IsolationViolation>(Wait).Rule);
        GeneratorEvents passed = supervisor.ExpectMsg<GeneratorEvents>(Wait);
        Assert.Equal((3L, 2L), (passed.Events, passed.Deferred));
        Assert.Equal(20_000UL, passed.Runs[^1].LastTime);
        supervisor.ExpectMsg<SourceHorizon>(Wait);
        monitor.Tell(GetMonitorReport.Instance, TestActor);
        Assert.Equal(2, ExpectMsg<MonitorReport>(Wait).DeferredInterrupts["a"]);
    }
}
