using Hypervisor.Cpu;
using Hypervisor.Devices;

namespace Hypervisor.Tests.Devices;

public class PlicTests
{
    private const int M = 0, S = 1;

    private readonly FakeInterruptTarget _hart = new();
    private readonly Plic _plic;

    public PlicTests() => _plic = new Plic(_hart);

    private static uint PriorityOffset(int source) => (uint)(4 * source);

    private static uint EnableOffset(int context, int word = 0) => (uint)(0x2000 + 0x80 * context + 4 * word);

    private static uint ThresholdOffset(int context) => (uint)(0x20_0000 + 0x1000 * context);

    private static uint ClaimOffset(int context) => ThresholdOffset(context) + 4;

    private uint Read(uint offset)
    {
        Assert.True(_plic.Read(offset, 4, out uint value));
        return value;
    }

    private void Write(uint offset, uint value) => Assert.True(_plic.Write(offset, 4, value));

    private void SetPriority(int source, uint priority) => Write(PriorityOffset(source), priority);

    private void Enable(int context, params int[] sources)
    {
        ulong bits = 0;
        foreach (int s in sources)
        {
            bits |= 1UL << s;
        }
        Write(EnableOffset(context, 0), (uint)bits);
        Write(EnableOffset(context, 1), (uint)(bits >> 32));
    }

    private uint Claim(int context) => Read(ClaimOffset(context));

    private void Complete(int context, int source) => Write(ClaimOffset(context), (uint)source);

    [Theory]
    [InlineData(0u, 0u)]
    [InlineData(1u, 1u)]
    [InlineData(7u, 7u)]
    [InlineData(8u, 7u)]
    [InlineData(0xFFFF_FFFFu, 7u)]
    public void Priority_is_clamped_to_0_through_7(uint written, uint readBack)
    {
        SetPriority(10, written);
        Assert.Equal(readBack, Read(PriorityOffset(10)));
    }

    [Fact]
    public void Source_0_priority_is_hardwired_to_zero()
    {
        SetPriority(0, 5);
        Assert.Equal(0u, Read(PriorityOffset(0)));
    }

    [Fact]
    public void Source_0_cannot_be_enabled()
    {
        Write(EnableOffset(M), 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFEu, Read(EnableOffset(M)));
    }

    [Fact]
    public void Enable_bits_read_back_per_context()
    {
        Enable(M, 3, 40);
        Enable(S, 5);

        Assert.Equal(1u << 3, Read(EnableOffset(M, 0)));
        Assert.Equal(1u << (40 - 32), Read(EnableOffset(M, 1)));
        Assert.Equal(1u << 5, Read(EnableOffset(S, 0)));
        Assert.Equal(0u, Read(EnableOffset(S, 1)));
    }

    [Fact]
    public void Raised_line_shows_in_the_pending_words()
    {
        _plic.SetLine(3, true);
        _plic.SetLine(33, true);

        Assert.Equal(1u << 3, Read(0x1000));
        Assert.Equal(1u << 1, Read(0x1004));
    }

    [Fact]
    public void Pending_words_are_read_only()
    {
        Write(0x1000, 0xFFFF_FFFF);
        Assert.Equal(0u, Read(0x1000));
    }

    [Fact]
    public void Enabled_source_above_threshold_drives_meip_from_context_0()
    {
        SetPriority(10, 1);
        Enable(M, 10);

        _plic.SetLine(10, true);

        Assert.True(_hart.IsSet(InterruptBits.Meip));
        Assert.False(_hart.IsSet(InterruptBits.Seip));
    }

    [Fact]
    public void Context_1_drives_seip()
    {
        SetPriority(10, 1);
        Enable(S, 10);

        _plic.SetLine(10, true);

        Assert.True(_hart.IsSet(InterruptBits.Seip));
        Assert.False(_hart.IsSet(InterruptBits.Meip));
    }

    [Fact]
    public void Source_not_enabled_for_a_context_is_not_claimed_there()
    {
        SetPriority(5, 2);
        Enable(S, 5);
        _plic.SetLine(5, true);

        Assert.Equal(0u, Claim(M));
        Assert.Equal(5u, Claim(S));
    }

    [Fact]
    public void Priority_zero_never_interrupts()
    {
        Enable(M, 10);

        _plic.SetLine(10, true);

        Assert.False(_hart.IsSet(InterruptBits.Meip));
        Assert.Equal(0u, Claim(M));
    }

    [Fact]
    public void Threshold_masks_priorities_at_or_below_it()
    {
        SetPriority(10, 3);
        Enable(M, 10);
        Write(ThresholdOffset(M), 3);

        _plic.SetLine(10, true);

        Assert.False(_hart.IsSet(InterruptBits.Meip));
        Assert.Equal(0u, Claim(M));
    }

    [Fact]
    public void Lowering_the_threshold_unmasks_a_pending_source()
    {
        SetPriority(10, 3);
        Enable(M, 10);
        Write(ThresholdOffset(M), 3);
        _plic.SetLine(10, true);

        Write(ThresholdOffset(M), 2);

        Assert.True(_hart.IsSet(InterruptBits.Meip));
    }

    [Fact]
    public void Threshold_is_per_context()
    {
        SetPriority(10, 3);
        Enable(M, 10);
        Enable(S, 10);
        Write(ThresholdOffset(M), 7);

        _plic.SetLine(10, true);

        Assert.False(_hart.IsSet(InterruptBits.Meip));
        Assert.True(_hart.IsSet(InterruptBits.Seip));
        Assert.Equal(7u, Read(ThresholdOffset(M)));
        Assert.Equal(0u, Read(ThresholdOffset(S)));
    }

    [Fact]
    public void Claim_returns_the_highest_priority_source()
    {
        SetPriority(3, 2);
        SetPriority(40, 6);
        SetPriority(10, 4);
        Enable(M, 3, 10, 40);
        _plic.SetLine(3, true);
        _plic.SetLine(10, true);
        _plic.SetLine(40, true);

        Assert.Equal(40u, Claim(M));
        Assert.Equal(10u, Claim(M));
        Assert.Equal(3u, Claim(M));
        Assert.Equal(0u, Claim(M));
    }

    [Fact]
    public void Claim_ties_go_to_the_lowest_source_id()
    {
        SetPriority(9, 5);
        SetPriority(7, 5);
        SetPriority(33, 5);
        Enable(M, 7, 9, 33);
        _plic.SetLine(33, true);
        _plic.SetLine(9, true);
        _plic.SetLine(7, true);

        Assert.Equal(7u, Claim(M));
        Assert.Equal(9u, Claim(M));
        Assert.Equal(33u, Claim(M));
    }

    [Fact]
    public void Claim_clears_pending_and_the_hart_line()
    {
        SetPriority(10, 1);
        Enable(M, 10);
        _plic.SetLine(10, true);

        Assert.Equal(10u, Claim(M));

        Assert.Equal(0u, Read(0x1000) & (1u << 10));
        Assert.False(_hart.IsSet(InterruptBits.Meip));
    }

    [Fact]
    public void Claimed_source_is_not_pended_again_before_completion()
    {
        SetPriority(10, 1);
        Enable(M, 10);
        _plic.SetLine(10, true);
        Claim(M);

        _plic.SetLine(10, false);
        _plic.SetLine(10, true);

        Assert.Equal(0u, Read(0x1000) & (1u << 10));
        Assert.Equal(0u, Claim(M));
    }

    [Fact]
    public void Completion_repends_a_line_that_is_still_high()
    {
        SetPriority(10, 1);
        Enable(M, 10);
        _plic.SetLine(10, true);
        Claim(M);

        Complete(M, 10);

        Assert.Equal(1u << 10, Read(0x1000) & (1u << 10));
        Assert.True(_hart.IsSet(InterruptBits.Meip));
        Assert.Equal(10u, Claim(M));
    }

    [Fact]
    public void Completion_of_a_lowered_line_leaves_it_idle()
    {
        SetPriority(10, 1);
        Enable(M, 10);
        _plic.SetLine(10, true);
        Claim(M);
        _plic.SetLine(10, false);

        Complete(M, 10);

        Assert.Equal(0u, Read(0x1000));
        Assert.False(_hart.IsSet(InterruptBits.Meip));
    }

    [Fact]
    public void Lowered_line_clears_pending_before_claim()
    {
        SetPriority(10, 1);
        Enable(M, 10);
        _plic.SetLine(10, true);

        _plic.SetLine(10, false);

        Assert.Equal(0u, Read(0x1000));
        Assert.False(_hart.IsSet(InterruptBits.Meip));
        Assert.Equal(0u, Claim(M));
    }

    [Fact]
    public void Completion_for_a_source_not_enabled_in_the_context_is_ignored()
    {
        SetPriority(10, 1);
        Enable(M, 10);
        _plic.SetLine(10, true);
        Claim(M);

        Complete(S, 10); // not enabled for S

        Assert.Equal(0u, Read(0x1000));
        Assert.Equal(0u, Claim(M));
    }

    [Fact]
    public void Claimed_event_reports_context_and_source()
    {
        var claims = new List<(int, int)>();
        _plic.Claimed += (ctx, src) => claims.Add((ctx, src));
        SetPriority(12, 1);
        Enable(S, 12);
        _plic.SetLine(12, true);

        Claim(S);

        Assert.Equal([(S, 12)], claims);
    }

    [Fact]
    public void Out_of_range_sources_are_ignored()
    {
        _plic.SetLine(0, true);
        _plic.SetLine(64, true);
        _plic.SetLine(-1, true);

        Assert.Equal(0UL, _plic.PendingBits);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Byte_and_halfword_accesses_are_refused(int size)
    {
        Assert.False(_plic.Read(PriorityOffset(1), size, out _));
        Assert.False(_plic.Write(PriorityOffset(1), size, 3));
        Assert.Equal(0u, Read(PriorityOffset(1)));
    }
}
