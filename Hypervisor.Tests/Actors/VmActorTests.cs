using System.Text;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Vm;
using Hypervisor.Loading;

namespace Hypervisor.Tests.Actors;

/// <summary>The VmActor protocol: slices, parking and waking, pause/resume, reset, stop, faults and exit codes.</summary>
public sealed class VmActorTests() : TestKit(FleetHost.ActorSystemConfig(Scenario.Of(FleetRun.Settings()), serilog: false))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private (IActorRef Vm, Akka.TestKit.TestProbe Console) Start(string image, string name = "vm", ConsoleSpec? console = null)
    {
        var probe = CreateTestProbe();
        VmSpec spec = FleetRun.Vm(name, image) with { Console = console ?? ConsoleSpec.None };
        IActorRef vm = Sys.ActorOf(VmActor.Props(spec, ElfImage.Load(image), probe.Ref), name);
        return (vm, probe);
    }

    private SliceCompleted Slice(IActorRef vm, ulong budget, ulong horizon = ulong.MaxValue, ulong idleHorizon = ulong.MaxValue, long seq = 1)
    {
        vm.Tell(new RunSlice(seq, budget, horizon, idleHorizon), TestActor);
        return ExpectMsg<SliceCompleted>(Wait);
    }

    private SliceCompleted RunToEnd(IActorRef vm)
    {
        for (int i = 0; i < 1000; i++)
        {
            SliceCompleted c = Slice(vm, 1_000_000);
            if (c.Reason is SliceEnd.PowerOff or SliceEnd.GuestFault or SliceEnd.Idle)
            {
                return c;
            }
        }
        throw new InvalidOperationException("the guest did not end");
    }

    [Fact]
    public void A_slice_runs_exactly_its_budget_and_reports_statistics()
    {
        (IActorRef vm, _) = Start(FleetRun.Guest("isa"));

        SliceCompleted c = Slice(vm, 1000, seq: 7);

        Assert.Equal("vm", c.Vm);
        Assert.Equal(7, c.Seq);
        Assert.Equal(SliceEnd.BudgetExhausted, c.Reason);
        Assert.Equal(1000UL, c.Slice.Executed);
        Assert.Equal(1000UL, c.Stats.Executed);
        Assert.Equal(100UL, c.Stats.VirtualTime); // 10 instructions per tick
        Assert.Equal("interp", c.Stats.Engine);
        Assert.True(c.Stats.ResidentBytes > 0);
    }

    [Fact]
    public void A_guest_that_powers_off_reports_its_exit_code_and_sends_its_output_to_the_console()
    {
        (IActorRef vm, Akka.TestKit.TestProbe console) = Start(FleetRun.Guest("hello"));

        SliceCompleted c = RunToEnd(vm);

        Assert.Equal(SliceEnd.PowerOff, c.Reason);
        Assert.Equal(0, c.Stats.ExitCode);
        ConsoleOutput output = console.ExpectMsg<ConsoleOutput>(Wait);
        Assert.Equal("Hello from a RISC-V guest!\n", Encoding.UTF8.GetString(output.Bytes));
    }

    [Fact]
    public void A_failing_guest_reports_its_fail_code()
    {
        (IActorRef vm, _) = Start(ActorGuests.FailWith(42));

        SliceCompleted c = RunToEnd(vm);

        Assert.Equal(SliceEnd.PowerOff, c.Reason);
        Assert.Equal(42, c.Stats.ExitCode);
    }

    [Fact]
    public void A_guest_fault_is_a_reason_with_a_report_not_an_exception()
    {
        (IActorRef vm, _) = Start(ActorGuests.WildJump());

        SliceCompleted c = RunToEnd(vm);

        Assert.Equal(SliceEnd.GuestFault, c.Reason);
        Assert.Contains("InstructionAccessFault", c.Stats.Fault);
        // The actor is still alive and answers.
        Assert.Equal(SliceEnd.GuestFault, Slice(vm, 10).Reason);
    }

    [Fact]
    public void A_vm_in_wfi_parks_and_an_interrupt_event_wakes_it_at_its_exact_virtual_time()
    {
        (IActorRef vm, _) = Start(ActorGuests.WaitForPlic(33, count: 1));

        SliceCompleted parked = RunToEnd(vm);
        Assert.Equal(SliceEnd.Idle, parked.Reason);
        Assert.Equal(ulong.MaxValue, parked.NextEventAt); // nothing of its own can wake it

        vm.Tell(new ScheduleInterrupt("vm", 33, true, 5_000));
        vm.Tell(new ScheduleInterrupt("vm", 33, false, 5_001));
        SliceCompleted done = RunToEnd(vm);

        Assert.Equal(SliceEnd.PowerOff, done.Reason);
        Assert.Equal(33, done.Stats.ExitCode); // the handler claimed source 33
        Assert.Equal(1, done.Stats.Interrupts);
        // Taken at cycle 50,000 exactly; the handler then runs a fixed number of instructions.
        Assert.InRange(done.Stats.Cycle, 50_000UL, 50_040UL);
    }

    [Fact]
    public void A_parked_vm_resumes_where_it_waited_so_the_horizon_never_changes_what_it_executes()
    {
        string image = ActorGuests.TimerThenPowerOff(10_000);
        (IActorRef whole, _) = Start(image, "whole");
        SliceCompleted oneGo = RunToEnd(whole);
        Assert.Equal(SliceEnd.PowerOff, oneGo.Reason);

        (IActorRef cut, _) = Start(image, "cut");
        SliceCompleted first = Slice(cut, 1_000_000, idleHorizon: 2_000);
        Assert.Equal(SliceEnd.Idle, first.Reason);
        Assert.Equal(10_000UL, first.NextEventAt);
        Assert.Equal(2_000UL, first.Stats.VirtualTime); // idle time skipped up to the idle horizon only
        SliceCompleted again = Slice(cut, 1_000_000, idleHorizon: 6_000);
        Assert.Equal(SliceEnd.Idle, again.Reason);
        Assert.Equal(0UL, again.Slice.Executed); // still waiting: the guest's idle loop did not run again
        SliceCompleted last = Slice(cut, 1_000_000, idleHorizon: 20_000);

        Assert.Equal(SliceEnd.PowerOff, last.Reason);
        Assert.Equal(oneGo.Stats.Instret, last.Stats.Instret);
        Assert.Equal(oneGo.Stats.Cycle, last.Stats.Cycle);
    }

    [Fact]
    public void Pause_refuses_slices_until_resume()
    {
        (IActorRef vm, _) = Start(ActorGuests.Spinner());
        Slice(vm, 100);

        vm.Tell(Pause.Instance, TestActor);
        VmPaused paused = ExpectMsg<VmPaused>(Wait);
        SliceCompleted refused = Slice(vm, 100);
        vm.Tell(Resume.Instance, TestActor);
        ExpectMsg<VmResumed>(Wait);
        SliceCompleted resumed = Slice(vm, 100);

        Assert.Equal(100UL, paused.Stats.Executed);
        Assert.Equal(SliceEnd.Stopped, refused.Reason);
        Assert.Equal(0UL, refused.Slice.Executed);
        Assert.Equal(SliceEnd.BudgetExhausted, resumed.Reason);
        Assert.Equal(200UL, resumed.Stats.Executed);
    }

    [Fact]
    public void Reset_boots_the_guest_again_from_its_image()
    {
        (IActorRef vm, Akka.TestKit.TestProbe console) = Start(FleetRun.Guest("hello"));
        RunToEnd(vm);
        console.ExpectMsg<ConsoleOutput>(Wait);

        vm.Tell(Reset.Instance, TestActor);
        VmWasReset reset = ExpectMsg<VmWasReset>(Wait);
        SliceCompleted again = RunToEnd(vm);

        Assert.Equal(0UL, reset.Stats.Instret);
        Assert.Null(reset.Stats.ExitCode);
        Assert.Equal(SliceEnd.PowerOff, again.Reason);
        Assert.Equal("Hello from a RISC-V guest!\n", Encoding.UTF8.GetString(console.ExpectMsg<ConsoleOutput>(Wait).Bytes));
    }

    [Fact]
    public void Stop_answers_with_the_final_state_and_ends_the_actor()
    {
        (IActorRef vm, _) = Start(ActorGuests.Spinner());
        Slice(vm, 500);
        Watch(vm);

        vm.Tell(Stop.Instance, TestActor);

        Assert.Equal(500UL, ExpectMsg<VmStopped>(Wait).Stats.Executed);
        ExpectTerminated(vm, Wait);
    }

    [Fact]
    public void Console_input_is_applied_at_its_virtual_time()
    {
        (IActorRef vm, Akka.TestKit.TestProbe console) = Start(FleetRun.Guest("minios"), console: new ConsoleSpec(Encoding.UTF8.GetBytes("hi there\n"), 20_000));

        SliceCompleted c = RunToEnd(vm);

        Assert.Equal(SliceEnd.PowerOff, c.Reason);
        var text = new StringBuilder();
        while (console.HasMessages)
        {
            text.Append(Encoding.UTF8.GetString(console.ExpectMsg<ConsoleOutput>(Wait).Bytes));
        }
        Assert.Contains("[1] reader: got \"hi there\" (8 bytes)", text.ToString());
    }
}
