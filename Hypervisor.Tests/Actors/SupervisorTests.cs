using System.Text.Json;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Supervision;
using Hypervisor.Machine;
using Hypervisor.Monitor;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Actors;

/// <summary>The supervisor over whole fleets: supervision, pause/resume/stop, devices, realtime wake-ups, determinism.</summary>
public sealed class SupervisorTests
{
    private static async Task<FleetStatus> AwaitStatus(FleetHost host, Func<FleetStatus, bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + FleetRun.Generous;
        while (true)
        {
            FleetStatus s = await host.StatusAsync();
            if (condition(s))
            {
                return s;
            }
            Assert.True(DateTime.UtcNow < deadline, "the fleet never reached the awaited state");
            await Task.Delay(20);
        }
    }

    private static VmStatus Of(FleetStatus s, string vm) => s.Vms.Single(v => v.Name == vm);

    [Fact]
    public async Task A_vm_whose_engine_throws_is_stopped_and_reported_while_the_others_finish()
    {
        Scenario s = Scenario.Of(FleetRun.Settings(slice: 10_000),
            FleetRun.Vm("good-1", FleetRun.Guest("isa")),
            FleetRun.Vm("bad", FleetRun.Guest("isa")),
            FleetRun.Vm("good-2", FleetRun.Guest("hello")));
        var options = new SupervisorOptions
        {
            WrapEngine = spec => spec.Name == "bad" ? engine => new ThrowingEngine(engine, throwOnCall: 2) : null,
        };

        (FleetCompleted done, _) = await FleetRun.RunAsync(s, options);

        VmStatus bad = Of(done.Status, "bad");
        Assert.Equal(VmPhase.Crashed, bad.Phase);
        Assert.Contains("injected engine failure", bad.Error);
        Assert.Equal(10_000UL, bad.Stats.Executed); // its state when the exception struck: one slice done
        Assert.Equal(70, bad.ExitCode);
        Assert.Equal(VmPhase.PoweredOff, Of(done.Status, "good-1").Phase);
        Assert.Equal(VmPhase.PoweredOff, Of(done.Status, "good-2").Phase);
    }

    [Fact]
    public async Task An_image_that_vanished_after_the_check_fails_only_its_own_vm()
    {
        Scenario s = Scenario.Of(FleetRun.Settings(),
            FleetRun.Vm("gone", Path.Combine(FleetRun.TempDir(), "gone.elf")),
            FleetRun.Vm("hello", FleetRun.Guest("hello")));

        (FleetCompleted done, _) = await FleetRun.RunAsync(s);

        Assert.Equal(VmPhase.Crashed, Of(done.Status, "gone").Phase);
        Assert.Contains("could not load the image", Of(done.Status, "gone").Error);
        Assert.Equal(VmPhase.PoweredOff, Of(done.Status, "hello").Phase);
    }

    [Fact]
    public async Task A_vm_with_the_restart_policy_boots_again_after_a_host_exception()
    {
        int calls = 0;
        Scenario s = Scenario.Of(FleetRun.Settings(slice: 10_000),
            FleetRun.Vm("flaky", FleetRun.Guest("isa")) with { Restart = RestartPolicy.Restart });
        var options = new SupervisorOptions
        {
            // Only the first engine built throws; the one built on restart works.
            WrapEngine = _ => engine => Interlocked.Increment(ref calls) == 1 ? new ThrowingEngine(engine, 2) : engine,
        };

        (FleetCompleted done, string dir) = await FleetRun.RunAsync(s, options);

        VmStatus flaky = Of(done.Status, "flaky");
        Assert.Equal(VmPhase.PoweredOff, flaky.Phase);
        Assert.Equal(0, flaky.ExitCode);
        Assert.Contains("restarting from boot", flaky.Error);
        Assert.Equal(2, calls);
        Assert.EndsWith("isa: all 778 checks passed\n", FleetRun.Transcript(dir, "flaky"));
    }

    [Fact]
    public async Task Pause_resume_and_stop_through_the_supervisor()
    {
        Scenario s = Scenario.Of(FleetRun.Settings(slice: 10_000),
            FleetRun.Vm("spin", ActorGuests.Spinner()),
            FleetRun.Vm("other", ActorGuests.Spinner()));
        await using FleetHost host = FleetHost.Start(s, new SupervisorOptions());

        await AwaitStatus(host, st => Of(st, "spin").Stats.Executed > 0);
        host.Supervisor.Tell(new PauseVm("spin"), Akka.Actor.ActorRefs.NoSender);
        FleetStatus paused = await AwaitStatus(host, st => Of(st, "spin").Phase == VmPhase.Paused);
        ulong frozen = Of(paused, "spin").Stats.Executed;
        ulong otherBefore = Of(paused, "other").Stats.Executed;
        FleetStatus later = await AwaitStatus(host, st => Of(st, "other").Stats.Executed > otherBefore + 100_000);
        Assert.Equal(frozen, Of(later, "spin").Stats.Executed); // a paused VM gets no slices

        host.Supervisor.Tell(new ResumeVm("spin"), Akka.Actor.ActorRefs.NoSender);
        await AwaitStatus(host, st => Of(st, "spin").Stats.Executed > frozen);
        host.Stop("test over");
        FleetCompleted done = await host.Completion.WaitAsync(FleetRun.Generous);

        Assert.True(done.Interrupted);
        Assert.All(done.Status.Vms, v => Assert.Equal(VmPhase.Stopped, v.Phase));
        Assert.All(done.Status.Vms, v => Assert.Equal(130, v.ExitCode));
    }

    [Fact]
    public async Task A_device_actor_wakes_a_parked_vm_with_interrupts_at_exact_virtual_times()
    {
        VmSpec vm = FleetRun.Vm("irq", ActorGuests.WaitForPlic(40, count: 3)) with
        {
            Devices = [new DeviceSpec("pulse", 40, PeriodTicks: 20_000, StartTicks: 5_000, WidthTicks: 1, Count: 0)],
        };

        (FleetCompleted one, _) = await FleetRun.RunAsync(Scenario.Of(FleetRun.Settings(parallelism: 1), vm));
        (FleetCompleted two, _) = await FleetRun.RunAsync(Scenario.Of(FleetRun.Settings(parallelism: 2, slice: 1_000) with { SourceWindowTicks = 3_000 }, vm));

        VmStatus a = Of(one.Status, "irq"), b = Of(two.Status, "irq");
        Assert.Equal(VmPhase.PoweredOff, a.Phase);
        Assert.Equal(40, a.Stats.ExitCode);
        Assert.Equal(3, a.Stats.Interrupts);
        // Third pulse at tick 45,000 = cycle 450,000; the handler then runs a fixed number of instructions.
        Assert.InRange(a.Stats.Cycle, 450_000UL, 450_040UL);
        Assert.Equal(a.Stats.Cycle, b.Stats.Cycle);
        Assert.Equal(a.Stats.Instret, b.Stats.Instret);
    }

    [Fact]
    public async Task A_realtime_vm_parked_in_wfi_is_woken_by_the_timer_actor()
    {
        VmSpec vm = FleetRun.Vm("rt", ActorGuests.TimerThenPowerOff(20_000)) with
        {
            Machine = new MachineConfig { MemorySize = 1u << 20, TimeMode = TimeMode.Realtime },
        };

        (FleetCompleted done, _) = await FleetRun.RunAsync(Scenario.Of(FleetRun.Settings(), vm));

        VmStatus rt = Of(done.Status, "rt");
        Assert.Equal(VmPhase.PoweredOff, rt.Phase);
        Assert.Equal("realtime", rt.Stats.TimeMode);
        Assert.True(rt.Stats.VirtualTime >= 20_000, $"woke at mtime {rt.Stats.VirtualTime}");
    }

    [Fact]
    public async Task Realtime_tickers_keep_waking_by_the_host_clock_and_a_stop_ends_the_parked_fleet()
    {
        string image = TinyGuests.Write("ticker", Hypervisor.Cli.Bench.BenchGuests.IdleTicker(50_000)); // 5 ms
        VmSpec[] vms = Enumerable.Range(1, 3).Select(i => FleetRun.Vm($"tick-{i}", image) with
        {
            Machine = new MachineConfig { MemorySize = 64u << 10, TimeMode = TimeMode.Realtime },
        }).ToArray();
        await using FleetHost host = FleetHost.Start(Scenario.Of(FleetRun.Settings(), vms), new SupervisorOptions());

        await AwaitStatus(host, st => st.Vms.All(v => v.Stats.Interrupts >= 3));
        host.Stop("enough ticks");
        FleetCompleted done = await host.Completion.WaitAsync(FleetRun.Generous);

        Assert.True(done.Interrupted);
        Assert.All(done.Status.Vms, v => Assert.Equal(VmPhase.Stopped, v.Phase));
    }

    [Fact]
    public async Task A_vm_nothing_can_wake_is_reported_halted_idle()
    {
        string path = TinyGuests.Write("sleeper", TinyGuests.WfiForever());

        (FleetCompleted done, _) = await FleetRun.RunAsync(Scenario.Of(FleetRun.Settings(), FleetRun.Vm("sleeper", path)));

        VmStatus v = Assert.Single(done.Status.Vms);
        Assert.Equal(VmPhase.HaltedIdle, v.Phase);
        Assert.Equal(126, v.ExitCode);
    }

    [Fact]
    public async Task The_same_guest_on_the_interpreter_and_the_translator_gives_the_same_run_in_a_fleet()
    {
        var input = new ConsoleSpec(System.Text.Encoding.UTF8.GetBytes("hello minios\n"), 20_000);
        VmSpec interp = FleetRun.Vm("interp", FleetRun.Guest("minios"), memory: 8u << 20) with { Console = input };
        VmSpec bt = interp with { Name = "bt", Machine = interp.Machine with { Engine = EngineKind.BinaryTranslator } };

        (FleetCompleted done, string dir) = await FleetRun.RunAsync(Scenario.Of(FleetRun.Settings(slice: 50_000), interp, bt));

        VmStatus a = Of(done.Status, "interp"), b = Of(done.Status, "bt");
        Assert.Equal("bt", b.Stats.Engine);
        Assert.Equal(0, b.ExitCode);
        Assert.Equal(a.Stats.Instret, b.Stats.Instret);
        Assert.Equal(a.Stats.Cycle, b.Stats.Cycle);
        Assert.Equal(FleetRun.Transcript(dir, "interp"), FleetRun.Transcript(dir, "bt"));
        Assert.Contains("reader: got \"hello minios\"", FleetRun.Transcript(dir, "bt"));
    }

    [Fact]
    public async Task Demo_runs_the_same_twice_and_whatever_the_parallelism_and_slice_size()
    {
        Scenario demo = ScenarioLoader.Load(RepoPaths.Config("demo.hocon"));
        Scenario other = demo with { Settings = demo.Settings with { HostParallelism = 1, SliceInstructions = 37_000 } };

        (FleetCompleted a, string dirA) = await FleetRun.RunAsync(demo);
        (FleetCompleted b, string dirB) = await FleetRun.RunAsync(demo);
        (FleetCompleted c, string dirC) = await FleetRun.RunAsync(other);

        Assert.All(a.Status.Vms, v => Assert.Equal(0, v.ExitCode));
        foreach (VmStatus v in a.Status.Vms)
        {
            string transcript = FleetRun.Transcript(dirA, v.Name);
            Assert.NotEmpty(transcript);
            Assert.Equal(transcript, FleetRun.Transcript(dirB, v.Name));
            Assert.Equal(transcript, FleetRun.Transcript(dirC, v.Name));
            Assert.Equal(v.Stats.Instret, Of(b.Status, v.Name).Stats.Instret);
            Assert.Equal(v.Stats.Instret, Of(c.Status, v.Name).Stats.Instret);
            Assert.Equal(v.Stats.Cycle, Of(c.Status, v.Name).Stats.Cycle);
        }
        Assert.Contains("reader: got \"hello minios\"", FleetRun.Transcript(dirA, "minios"));
    }
}
