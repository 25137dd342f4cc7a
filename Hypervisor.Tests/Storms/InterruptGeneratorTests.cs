using Hypervisor.Cpu;
using Hypervisor.Devices;
using Hypervisor.Monitor;
using Hypervisor.Tests.Devices;
using static Hypervisor.Devices.InterruptGenerator;

namespace Hypervisor.Tests.Storms;

/// <summary>A generator on a fake PLIC line with a hand-driven clock: the VM's event loop in miniature.</summary>
internal sealed class GeneratorRig
{
    public const uint Ipt = 10;

    public GeneratorRig()
    {
        Clock = new VirtualClock(State, TimeMode.Virtual, Ipt);
        Device = new InterruptGenerator(Lines, State, Clock, Events);
    }

    public HartState State { get; } = new();

    public EventScheduler Events { get; } = new();

    public VirtualClock Clock { get; }

    public FakeInterruptSink Lines { get; } = new();

    public InterruptGenerator Device { get; }

    public SourceAccount Account(int source) => Device.Accounting.For(source);

    /// <summary>Runs the clock to <paramref name="cycle"/>, applying every event at its exact cycle.</summary>
    public void AdvanceTo(ulong cycle)
    {
        while (Events.NextDue <= cycle)
        {
            State.Cycle = Math.Max(State.Cycle, Events.NextDue);
            Events.RunDue(State.Cycle);
        }
        State.Cycle = cycle;
    }

    public uint Read(uint offset)
    {
        Assert.True(Device.Read(offset, 4, out uint value));
        return value;
    }

    public void Write(uint offset, uint value) => Assert.True(Device.Write(offset, 4, value));

    public static uint Reg(int source, uint reg) => SourceBase + SourceStride * (uint)(source - FirstSource) + reg;

    public uint Read(int source, uint reg) => Read(Reg(source, reg));

    public void Write(int source, uint reg, uint value) => Write(Reg(source, reg), value);

    /// <summary>The identities of docs/interrupt-generator.md, for one source.</summary>
    public void AssertBooksBalance(int source)
    {
        SourceAccount a = Account(source);
        Assert.Equal(a.Raised, a.Delivered + a.Coalesced + a.Awaiting + a.DiscardedHeads);
        Assert.Equal(a.Raised, a.Acknowledged + a.Pending + a.Discarded);
        Assert.Equal(0, a.Lost);
        Assert.InRange(a.Awaiting, 0, a.Pending > 0 ? 1 : 0);
    }
}

/// <summary>The interrupt generator's registers, line and accounting (docs/interrupt-generator.md).</summary>
public sealed class InterruptGeneratorTests
{
    private readonly GeneratorRig _rig = new();

    [Fact]
    public void Identifies_itself_and_refuses_accesses_that_are_not_aligned_words()
    {
        Assert.Equal(0x4E454749u, _rig.Read(RegId));
        Assert.Equal(1u, _rig.Read(RegVersion));
        Assert.Equal(32u | (32u << 8), _rig.Read(RegConfig));
        Assert.Equal(0u, _rig.Read(0x0F0));
        Assert.False(_rig.Device.Read(RegId, 1, out _));
        Assert.False(_rig.Device.Read(RegId + 2, 4, out _));
        Assert.False(_rig.Device.Write(RegEnableMap, 2, 1));
        Assert.Equal(0x1000u, _rig.Device.Size);
    }

    [Fact]
    public void An_event_raises_the_line_at_its_exact_cycle_and_acknowledging_every_event_lowers_it()
    {
        _rig.Device.AttachHost(40);
        _rig.Write(40, RegCtrl, 1);
        _rig.Device.Publish(40, EventRun.Single(100, events: 3)); // tick 100 = cycle 1000

        _rig.AdvanceTo(999);
        Assert.False(_rig.Lines.Level(40));
        Assert.Equal(0u, _rig.Read(40, RegPending));
        Assert.Equal(3u, _rig.Read(40, RegQueued));
        _rig.AdvanceTo(1000);
        Assert.True(_rig.Lines.Level(40));
        Assert.Equal(3u, _rig.Read(40, RegPending));
        Assert.Equal(3u, _rig.Read(40, RegRaised));
        Assert.Equal(StatusLine | StatusHost | StatusAwaiting, _rig.Read(40, RegStatus) & ~StatusDone);
        Assert.Equal(1u << 8, _rig.Read(RegPendingMap));
        Assert.Equal(1u << 8, _rig.Read(RegLineMap));

        _rig.Write(40, RegAck, 2);
        Assert.True(_rig.Lines.Level(40));
        _rig.Write(40, RegAck, 5); // more than pending: only what is pending
        Assert.False(_rig.Lines.Level(40));
        Assert.Equal(3u, _rig.Read(40, RegAcked));
        Assert.Equal(0u, _rig.Read(40, RegPending));
        _rig.AssertBooksBalance(40);
    }

    [Fact]
    public void A_claim_delivers_the_event_that_raised_the_line_and_the_others_are_coalesced()
    {
        _rig.Device.AttachHost(33);
        _rig.Write(RegEnableMap, 1u << 1);
        _rig.Device.Publish(33, EventRun.Single(10, events: 5));
        _rig.AdvanceTo(100);

        _rig.Device.OnClaimed(0, 33);
        _rig.Write(33, RegAck, _rig.Read(33, RegPending));

        SourceAccount a = _rig.Account(33);
        Assert.Equal((5L, 1L, 4L, 1L, 0L), (a.Raised, a.Delivered, a.Coalesced, a.Claims, a.Awaiting));
        Assert.Equal(1u, _rig.Read(33, RegDelivered));
        Assert.Equal(4u, _rig.Read(33, RegCoalesced));
        Assert.Equal(1u, _rig.Read(33, RegClaims));
        _rig.AssertBooksBalance(33);
    }

    [Fact]
    public void A_storm_costs_one_scheduler_event_per_delivery_and_is_counted_exactly_when_the_guest_looks()
    {
        _rig.Device.AttachHost(50);
        _rig.Write(50, RegCtrl, 1);
        // An event every tick (10 instructions) for a million ticks: the fastest the timebase can express.
        _rig.Device.Publish(50, EventRun.Every(0, 1, 1_000_000));
        _rig.AdvanceTo(0);
        Assert.Equal(1u, _rig.Read(50, RegRaised));
        Assert.Equal(0, _rig.Events.Count); // waiting for its claim: nothing scheduled

        _rig.AdvanceTo(5_000 * GeneratorRig.Ipt + 3);
        Assert.Equal(5_001u, _rig.Read(50, RegRaised));
        Assert.Equal(5_001u, _rig.Read(50, RegPending));
        Assert.Equal(5_000L, _rig.Account(50).Coalesced);

        _rig.Device.OnClaimed(0, 50);
        Assert.Equal(1, _rig.Events.Count); // the next arrival starts a new wait
        _rig.Write(50, RegAck, 5_001);
        _rig.AdvanceTo(5_001 * GeneratorRig.Ipt);
        Assert.Equal(1u, _rig.Read(50, RegPending));
        Assert.True(_rig.Lines.Level(50));
        _rig.AssertBooksBalance(50);
    }

    [Fact]
    public void Fractional_intervals_place_every_event_at_its_exact_tick()
    {
        _rig.Device.AttachHost(34);
        _rig.Write(34, RegCtrl, 1);
        // 3,000,000 events per second of virtual time: one every 3 1/3 ticks.
        _rig.Device.Publish(34, new EventRun(0, 0, 30, 10_000_000, 3_000_000, 1));
        var raisedAt = new List<ulong>();
        for (ulong c = 0; c <= 100 * GeneratorRig.Ipt; c += GeneratorRig.Ipt)
        {
            _rig.AdvanceTo(c);
            uint raised = _rig.Read(34, RegRaised);
            while (raisedAt.Count < raised)
            {
                raisedAt.Add(c / GeneratorRig.Ipt);
            }
        }
        Assert.Equal(30, raisedAt.Count);
        Assert.Equal([0UL, 3, 6, 10, 13, 16, 20], raisedAt.Take(7));
    }

    [Fact]
    public void A_disabled_source_counts_events_but_keeps_its_line_low_until_enabled()
    {
        _rig.Device.AttachHost(36);
        _rig.Device.Publish(36, EventRun.Single(1, events: 2));
        _rig.AdvanceTo(50);

        Assert.False(_rig.Lines.Level(36));
        Assert.Equal(2u, _rig.Read(36, RegPending));
        _rig.Write(36, RegCtrl, 1);
        Assert.True(_rig.Lines.Level(36));
        Assert.Equal(0u, _rig.Read(36, RegQueued)); // a host-driven source starts no local pattern
    }

    [Fact]
    public void Enabling_a_source_the_host_does_not_drive_runs_the_default_burst_pattern_then_reports_done()
    {
        Assert.Equal(0u, _rig.Read(RegHostMap));
        _rig.AdvanceTo(77);
        _rig.Write(32, RegCtrl, 1);
        Assert.Equal(StatusLocal, _rig.Read(32, RegStatus) & StatusLocal);
        Assert.Equal(DefaultBurst * DefaultBursts, _rig.Read(32, RegQueued));

        ulong firstBurst = (77 / GeneratorRig.Ipt + DefaultStartTicks) * GeneratorRig.Ipt;
        _rig.AdvanceTo(firstBurst - 1);
        Assert.Equal(0u, _rig.Read(32, RegRaised));
        _rig.AdvanceTo(firstBurst);
        Assert.Equal(DefaultBurst, _rig.Read(32, RegRaised));
        Assert.Equal(0u, _rig.Read(RegDoneMap) & 1u);

        _rig.AdvanceTo(firstBurst + DefaultPeriodTicks * (DefaultBursts - 1) * GeneratorRig.Ipt);
        Assert.Equal(DefaultBurst * DefaultBursts, _rig.Read(32, RegRaised));
        Assert.Equal(1u, _rig.Read(RegDoneMap) & 1u);
        Assert.Equal(0u, _rig.Read(32, RegStatus) & StatusLocal);
        _rig.AssertBooksBalance(32);
    }

    [Fact]
    public void The_guest_can_ask_for_its_own_pattern_through_the_pattern_registers()
    {
        _rig.Write(33, RegPatternBurst, 3);
        _rig.Write(33, RegPatternPeriod, 7);
        _rig.Write(33, RegPatternCount, 4);
        _rig.Write(33, RegPatternStart, 0);
        _rig.Write(33, RegCtrl, 1);

        _rig.AdvanceTo(21 * GeneratorRig.Ipt);
        Assert.Equal(12u, _rig.Read(33, RegRaised));
        Assert.Equal(3u, _rig.Read(33, RegPatternBurst));
    }

    [Fact]
    public void Latency_runs_from_the_raise_to_the_handlers_first_instruction_in_virtual_time()
    {
        _rig.Device.AttachHost(40);
        _rig.Write(40, RegCtrl, 1);
        _rig.Device.Publish(40, EventRun.Single(100));
        _rig.AdvanceTo(1_050);

        _rig.Device.HandlerEntered(40);
        _rig.Device.OnClaimed(0, 40);

        LatencyHistogram v = _rig.Device.Accounting.VirtualLatency;
        Assert.Equal(1, v.Count);
        Assert.Equal(500, v.Max); // 50 cycles = 5 ticks = 500 ns of virtual time
        Assert.Equal(1, _rig.Device.Accounting.HostLatency.Count);
    }

    [Fact]
    public void Deferred_events_are_counted_and_shown_to_the_guest()
    {
        _rig.Device.AddDeferred(40, 7);
        Assert.Equal(7u, _rig.Read(40, RegDeferred));
        Assert.Equal(7, _rig.Device.Accounting.Deferred);
    }

    [Fact]
    public void Runs_of_a_source_must_come_in_time_order()
    {
        _rig.Device.Publish(40, EventRun.Every(100, 10, 5));
        Assert.Throws<ArgumentException>(() => _rig.Device.Publish(40, EventRun.Single(120)));
        _rig.Device.Publish(40, EventRun.Single(140));
        Assert.Throws<ArgumentOutOfRangeException>(() => _rig.Device.Publish(31, EventRun.Single(1)));
    }

    [Fact]
    public void A_reset_discards_pending_events_and_local_patterns_but_keeps_the_hosts_traffic()
    {
        _rig.Device.Publish(40, EventRun.Every(10, 10, 3));
        _rig.Write(40, RegCtrl, 1);
        _rig.Write(33, RegCtrl, 1); // local pattern
        _rig.Write(33, RegPatternBurst, 99);
        _rig.AdvanceTo(150);

        _rig.Device.Reset();

        Assert.False(_rig.Lines.Level(40));
        Assert.Equal(0u, _rig.Read(40, RegCtrl));
        Assert.Equal(DefaultBurst, _rig.Read(33, RegPatternBurst));
        Assert.Equal(0u, _rig.Read(33, RegQueued));
        _rig.AdvanceTo(300);
        Assert.Equal(3u, _rig.Read(40, RegRaised));
        Assert.Equal(0, _rig.Account(33).Lost);
        _rig.AssertBooksBalance(40);
        _rig.AssertBooksBalance(33);
    }

    [Fact]
    public void The_books_balance_whatever_the_host_and_the_guest_do()
    {
        var random = new Random(7);
        ulong[] lastTick = new ulong[4];
        for (int step = 0; step < 5_000; step++)
        {
            int source = 40 + random.Next(4);
            switch (random.Next(6))
            {
                case 0:
                    ulong start = Math.Max(lastTick[source - 40], _rig.State.Cycle / GeneratorRig.Ipt) + (ulong)random.Next(20);
                    var run = new EventRun(start, 0, random.Next(1, 30), (ulong)random.Next(0, 9), (ulong)random.Next(1, 4), random.Next(1, 4));
                    _rig.Device.Publish(source, run);
                    lastTick[source - 40] = run.LastTime;
                    break;
                case 1:
                    _rig.AdvanceTo(_rig.State.Cycle + (ulong)random.Next(200));
                    break;
                case 2:
                    _rig.Device.HandlerEntered(source);
                    _rig.Device.OnClaimed(0, source);
                    break;
                case 3:
                    _rig.Write(source, RegAck, (uint)random.Next(5));
                    break;
                case 4:
                    _rig.Write(source, RegCtrl, (uint)random.Next(2));
                    break;
                default:
                    _rig.Read(RegPendingMap);
                    break;
            }
            for (int s = 40; s < 44; s++)
            {
                _rig.AssertBooksBalance(s);
                Assert.Equal(_rig.Account(s).Pending > 0 && _rig.Read(s, RegCtrl) == 1, _rig.Lines.Level(s));
            }
        }
        Assert.True(_rig.Device.Accounting.Raised > 1_000);
    }

    [Theory]
    [InlineData(0UL, 1UL, 1UL)]
    [InlineData(5UL, 10_000_000UL, 3_000_000UL)]
    [InlineData(100UL, 0UL, 1UL)]
    [InlineData(7UL, 3UL, 7UL)]
    public void A_runs_last_arrival_before_a_time_matches_counting_them_one_by_one(ulong origin, ulong num, ulong den)
    {
        var run = new EventRun(origin, 3, 50, num, den, 1);
        for (ulong t = 0; t < origin + 200; t++)
        {
            long expected = run.First - 1;
            for (long k = run.First; k < run.End && run.TimeOf(k) <= t; k++)
            {
                expected = k;
            }
            Assert.Equal(expected, run.LastIndexAtOrBefore(t));
        }
    }
}
