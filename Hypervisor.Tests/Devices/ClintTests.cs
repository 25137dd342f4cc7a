using Hypervisor.Cpu;
using Hypervisor.Devices;
using Hypervisor.Monitor;

namespace Hypervisor.Tests.Devices;

public class ClintTests
{
    private const uint Msip = 0x0000, MtimecmpLo = 0x4000, MtimecmpHi = 0x4004, MtimeLo = 0xBFF8, MtimeHi = 0xBFFC;
    private const uint InstructionsPerTick = 10;

    private readonly HartState _state = new();
    private readonly FakeInterruptTarget _hart = new();
    private readonly EventScheduler _events = new();
    private readonly VirtualClock _clock;
    private readonly Clint _clint;

    public ClintTests()
    {
        _clock = new VirtualClock(_state, TimeMode.Virtual, InstructionsPerTick);
        _clint = new Clint(_hart, _clock, _events);
    }

    private uint Read(uint offset)
    {
        Assert.True(_clint.Read(offset, 4, out uint value));
        return value;
    }

    private void Write(uint offset, uint value) => Assert.True(_clint.Write(offset, 4, value));

    private void WriteMtimecmp(ulong value)
    {
        // The spec's recommended sequence for RV32: no spurious match in between.
        Write(MtimecmpLo, 0xFFFF_FFFF);
        Write(MtimecmpHi, (uint)(value >> 32));
        Write(MtimecmpLo, (uint)value);
    }

    [Fact]
    public void Mtimecmp_resets_to_all_ones_and_no_timer_is_pending()
    {
        Assert.Equal(0xFFFF_FFFFu, Read(MtimecmpLo));
        Assert.Equal(0xFFFF_FFFFu, Read(MtimecmpHi));
        Assert.False(_hart.IsSet(InterruptBits.Mtip));
        Assert.Equal(ulong.MaxValue, _events.NextDue);
    }

    [Fact]
    public void Mtime_follows_cycles_divided_by_instructions_per_tick()
    {
        _state.Cycle = 12_345;

        Assert.Equal(1_234u, Read(MtimeLo));
        Assert.Equal(0u, Read(MtimeHi));
    }

    [Fact]
    public void Mtime_high_word_carries_past_32_bits()
    {
        _state.Cycle = (0x1_0000_0002UL * InstructionsPerTick) + 9;

        Assert.Equal(2u, Read(MtimeLo));
        Assert.Equal(1u, Read(MtimeHi));
    }

    [Fact]
    public void Mtimecmp_at_or_below_mtime_sets_mtip_immediately()
    {
        _state.Cycle = 1_000; // mtime = 100

        WriteMtimecmp(100);

        Assert.True(_hart.IsSet(InterruptBits.Mtip));
    }

    [Fact]
    public void Mtimecmp_in_the_past_sets_mtip_immediately()
    {
        _state.Cycle = 1_000;

        WriteMtimecmp(3);

        Assert.True(_hart.IsSet(InterruptBits.Mtip));
    }

    [Fact]
    public void Future_mtimecmp_leaves_mtip_clear_and_schedules_an_event_at_the_exact_cycle()
    {
        _state.Cycle = 1_003; // mtime = 100

        WriteMtimecmp(150);

        Assert.False(_hart.IsSet(InterruptBits.Mtip));
        Assert.Equal(1_500UL, _events.NextDue);
    }

    [Fact]
    public void Timer_event_sets_mtip_when_its_cycle_is_reached()
    {
        WriteMtimecmp(150);

        _state.Cycle = 1_499;
        _events.RunDue(_state.Cycle);
        Assert.False(_hart.IsSet(InterruptBits.Mtip));

        _state.Cycle = 1_500;
        _events.RunDue(_state.Cycle);
        Assert.True(_hart.IsSet(InterruptBits.Mtip));
    }

    [Fact]
    public void Moving_mtimecmp_forward_clears_mtip_and_reschedules()
    {
        _state.Cycle = 2_000;
        WriteMtimecmp(100);
        Assert.True(_hart.IsSet(InterruptBits.Mtip));

        WriteMtimecmp(300);

        Assert.False(_hart.IsSet(InterruptBits.Mtip));
        Assert.Equal(3_000UL, _events.NextDue);
        Assert.Equal(1, _events.Count);
    }

    [Fact]
    public void Rewriting_mtimecmp_cancels_the_earlier_event()
    {
        WriteMtimecmp(100);
        WriteMtimecmp(500);

        Assert.Equal(5_000UL, _events.NextDue);
        Assert.Equal(1, _events.Count);
    }

    [Fact]
    public void Mtimecmp_of_all_ones_schedules_nothing()
    {
        WriteMtimecmp(100);
        WriteMtimecmp(ulong.MaxValue);

        Assert.Equal(ulong.MaxValue, _events.NextDue);
        Assert.False(_hart.IsSet(InterruptBits.Mtip));
    }

    [Fact]
    public void Mtimecmp_reads_back_both_halves()
    {
        WriteMtimecmp(0x1234_5678_9ABC_DEF0);

        Assert.Equal(0x9ABC_DEF0u, Read(MtimecmpLo));
        Assert.Equal(0x1234_5678u, Read(MtimecmpHi));
        Assert.Equal(0x1234_5678_9ABC_DEF0UL, _clint.MtimeCmp);
    }

    [Fact]
    public void Msip_write_one_drives_mip_msip()
    {
        Write(Msip, 1);

        Assert.True(_hart.IsSet(InterruptBits.Msip));
        Assert.Equal(1u, Read(Msip));
    }

    [Fact]
    public void Msip_write_zero_clears_mip_msip()
    {
        Write(Msip, 1);
        Write(Msip, 0);

        Assert.False(_hart.IsSet(InterruptBits.Msip));
        Assert.Equal(0u, Read(Msip));
    }

    [Fact]
    public void Msip_uses_only_bit_zero()
    {
        Write(Msip, 0xFFFF_FFFE);

        Assert.False(_hart.IsSet(InterruptBits.Msip));
        Assert.Equal(0u, Read(Msip));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Byte_and_halfword_accesses_are_refused(int size)
    {
        Assert.False(_clint.Read(Msip, size, out _));
        Assert.False(_clint.Write(Msip, size, 1));
        Assert.False(_clint.Write(MtimecmpLo, size, 0));
        Assert.False(_hart.IsSet(InterruptBits.Msip));
        Assert.Equal(ulong.MaxValue, _clint.MtimeCmp);
    }

    [Fact]
    public void Misaligned_word_access_is_refused()
    {
        Assert.False(_clint.Read(MtimeLo + 2, 4, out _));
        Assert.False(_clint.Write(MtimecmpLo + 1, 4, 0));
    }

    [Fact]
    public void Mtime_is_writable_and_keeps_counting_from_the_written_value()
    {
        _state.Cycle = 500;

        Write(MtimeLo, 5_000);
        Assert.Equal(5_000u, Read(MtimeLo));

        _state.Cycle += 10 * InstructionsPerTick;
        Assert.Equal(5_010u, Read(MtimeLo));
    }

    [Fact]
    public void Mtime_high_word_is_writable()
    {
        Write(MtimeHi, 7);

        Assert.Equal(7u, Read(MtimeHi));
        Assert.Equal(0u, Read(MtimeLo));
    }

    [Fact]
    public void Writing_mtime_past_mtimecmp_sets_mtip()
    {
        WriteMtimecmp(1_000);
        Assert.False(_hart.IsSet(InterruptBits.Mtip));

        Write(MtimeLo, 1_000);

        Assert.True(_hart.IsSet(InterruptBits.Mtip));
    }

    [Fact]
    public void Writing_mtime_reschedules_the_timer_event()
    {
        WriteMtimecmp(1_000); // due at cycle 10_000

        Write(MtimeLo, 900);  // 100 ticks to go from cycle 0

        Assert.Equal(1_000UL, _events.NextDue);
    }

    [Fact]
    public void Reset_clears_msip_and_timer()
    {
        Write(Msip, 1);
        _state.Cycle = 100;
        WriteMtimecmp(0);

        _clint.Reset();

        Assert.False(_hart.IsSet(InterruptBits.Msip));
        Assert.False(_hart.IsSet(InterruptBits.Mtip));
        Assert.Equal(ulong.MaxValue, _clint.MtimeCmp);
    }
}
