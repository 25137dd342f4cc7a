using Hypervisor.Actors.Scheduling;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Vm;

namespace Hypervisor.Tests.Actors;

/// <summary>The scheduling policy alone, driven by made-up slice completions (no actors, no host timing).</summary>
public sealed class FleetSchedulerTests
{
    private static SliceCompleted Done(FleetScheduler s, int id, ulong executed, SliceEnd reason = SliceEnd.BudgetExhausted,
        ulong? localTime = null, ulong nextEventAt = ulong.MaxValue, double hostSeconds = 0.001)
    {
        var stats = VmStats.Empty(s.Vms[id].Name, "interp", "virtual") with { VirtualTime = localTime ?? s.Vms[id].LocalTime + executed / 10 };
        return new SliceCompleted(s.Vms[id].Name, 0, new SliceStats(executed, hostSeconds, 0), stats, reason, nextEventAt, double.PositiveInfinity);
    }

    [Fact]
    public void Never_more_slices_in_flight_than_host_parallelism()
    {
        var s = new FleetScheduler(2, 1000, 0, 1000);
        for (int i = 0; i < 5; i++)
        {
            s.Add($"vm{i}", 1, 0, 0, isVirtual: true);
        }

        List<Grant> first = s.TakeGrants();
        List<Grant> none = s.TakeGrants();
        s.Completed(first[0].Id, Done(s, first[0].Id, 1000));
        List<Grant> next = s.TakeGrants();

        Assert.Equal(2, first.Count);
        Assert.Empty(none);
        Assert.Single(next);
        Assert.Equal(2, s.InFlight);
    }

    [Fact]
    public void Instructions_are_shared_in_proportion_to_weights()
    {
        var s = new FleetScheduler(1, 1000, 0, 1000);
        int a = s.Add("w1", 1, 0, 0, true), b = s.Add("w2", 2, 0, 0, true), c = s.Add("w4", 4, 0, 0, true);
        var executed = new ulong[3];

        for (int i = 0; i < 700; i++)
        {
            Grant g = Assert.Single(s.TakeGrants());
            executed[g.Id] += g.Budget;
            s.Completed(g.Id, Done(s, g.Id, g.Budget));
        }

        Assert.Equal(100_000UL, executed[a]);
        Assert.Equal(200_000UL, executed[b]);
        Assert.Equal(400_000UL, executed[c]);
    }

    [Fact]
    public void A_slice_quota_lowers_the_budget_of_one_vm()
    {
        var s = new FleetScheduler(2, 1000, 0, 1000);
        s.Add("small", 1, 0, 250, true);
        s.Add("big", 1, 0, 0, true);

        Assert.Equal([250UL, 1000UL], s.TakeGrants().Select(g => g.Budget).Order());
    }

    [Fact]
    public void A_parked_vm_waits_for_the_fleet_time_to_reach_its_event_and_costs_nothing_meanwhile()
    {
        var s = new FleetScheduler(1, 1000, idleLookaheadTicks: 100, sourceWindowTicks: 1000);
        int sleeper = s.Add("sleeper", 1, 0, 0, true);
        int worker = s.Add("worker", 1, 0, 0, true);

        Grant g1 = Assert.Single(s.TakeGrants());
        Assert.Equal(sleeper, g1.Id);
        Assert.Equal(100UL, g1.IdleHorizon); // fleet time 0 + lookahead
        s.Completed(sleeper, Done(s, sleeper, 10, SliceEnd.Idle, localTime: 100, nextEventAt: 5_000));
        Assert.Equal(VmPhase.Parked, s.Vms[sleeper].Phase);

        // Only the worker runs until its clock brings the fleet within the lookahead of 5,000.
        int workerSlices = 0;
        while (s.Vms[sleeper].Phase == VmPhase.Parked)
        {
            Grant g = Assert.Single(s.TakeGrants());
            Assert.Equal(worker, g.Id);
            s.Completed(worker, Done(s, worker, 1000));
            workerSlices++;
        }

        Assert.Equal(49, workerSlices); // worker at 4,900 = 5,000 - lookahead
        Assert.Equal(4_900UL, s.FleetTime);
        Assert.Equal(VmPhase.Ready, s.Vms[sleeper].Phase);
    }

    [Fact]
    public void When_every_vm_sleeps_fleet_time_jumps_to_the_earliest_event()
    {
        var s = new FleetScheduler(2, 1000, 0, 1000);
        int a = s.Add("a", 1, 0, 0, true), b = s.Add("b", 1, 0, 0, true);
        s.TakeGrants();

        s.Completed(a, Done(s, a, 10, SliceEnd.Idle, localTime: 1, nextEventAt: 70_000));
        s.Completed(b, Done(s, b, 10, SliceEnd.Idle, localTime: 1, nextEventAt: 30_000));

        Assert.Equal(30_000UL, s.FleetTime);
        Assert.Equal(VmPhase.Ready, s.Vms[b].Phase);
        Assert.Equal(VmPhase.Parked, s.Vms[a].Phase);
    }

    [Fact]
    public void A_vm_nothing_can_wake_is_halted_idle_and_input_can_still_wake_it()
    {
        var s = new FleetScheduler(1, 1000, 0, 1000);
        int a = s.Add("a", 1, 0, 0, true);
        s.TakeGrants();
        s.Completed(a, Done(s, a, 10, SliceEnd.Idle));

        Assert.Equal(VmPhase.HaltedIdle, s.Vms[a].Phase);
        Assert.True(s.AllFinished);
        s.Wake(a);
        Assert.Equal(VmPhase.Ready, s.Vms[a].Phase);
    }

    [Fact]
    public void A_capped_vm_is_throttled_until_the_next_accounting_period()
    {
        var s = new FleetScheduler(1, 1000, 0, 1000) { CapPeriodSeconds = 0.1 };
        int capped = s.Add("capped", 1, capPercent: 10, 0, true);
        s.TakeGrants();

        s.Completed(capped, Done(s, capped, 1000, hostSeconds: 0.02)); // 20 ms > 10% of 100 ms
        Assert.Equal(VmPhase.Throttled, s.Vms[capped].Phase);
        Assert.Empty(s.TakeGrants());

        s.NewCapPeriod();
        Assert.Single(s.TakeGrants());
    }

    [Fact]
    public void A_vm_with_a_device_source_never_runs_past_what_the_source_published()
    {
        var s = new FleetScheduler(1, 1000, 0, sourceWindowTicks: 400);
        int vm = s.Add("vm", 1, 0, 0, true, sources: 1);
        Assert.Equal([(vm, 400UL)], s.Demands);
        s.Demands.Clear();

        Assert.Empty(s.TakeGrants()); // blocked until its source has published something
        s.Promised(vm, 0, 400);
        Grant g = Assert.Single(s.TakeGrants());
        Assert.Equal(400UL, g.Horizon);

        s.Completed(vm, Done(s, vm, 4000, SliceEnd.HorizonReached, localTime: 400));
        Assert.Equal(VmPhase.Blocked, s.Vms[vm].Phase);
        Assert.Equal([(vm, 800UL)], s.Demands);
        s.Promised(vm, 0, 800);
        Assert.Equal(VmPhase.Ready, s.Vms[vm].Phase);
    }

    [Fact]
    public void Pause_keeps_a_vm_out_of_the_queue_until_resume()
    {
        var s = new FleetScheduler(1, 1000, 0, 1000);
        int a = s.Add("a", 1, 0, 0, true);
        Grant g = Assert.Single(s.TakeGrants());

        s.Pause(a); // while running: takes effect when the slice completes
        s.Completed(a, Done(s, a, 1000));
        Assert.Equal(VmPhase.Paused, s.Vms[a].Phase);
        Assert.Empty(s.TakeGrants());
        s.Resume(a);
        Assert.Single(s.TakeGrants());
        _ = g;
    }
}
