using Hypervisor.Cpu;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Translation;

/// <summary>The per-VM object every translated block of that VM is bound to (its first, hidden argument).</summary>
/// <remarks>
/// Binding the delegate to this object (CreateDelegate with a target) avoids the argument-shuffle
/// thunk of open static delegates; the fields are what the emitted IL reads: the register array,
/// the hart state for pc and cycle, and the MMU, whose TLB sets the inlined memory fast path reads.
/// </remarks>
public sealed class TranslationContext
{
    public TranslationContext(Hart hart, Action flushCode)
    {
        Hart = hart;
        State = hart.State;
        Registers = hart.State.X;
        Mmu = hart.Mmu;
        FlushCode = flushCode;
    }

    public readonly Hart Hart;
    public readonly HartState State;
    public readonly uint[] Registers;
    public readonly Mmu Mmu;

    /// <summary>The cycle no block may run past (end of the chunk): loops and chained jumps check it.</summary>
    public ulong CycleLimit;

    public const int JumpCacheSize = 4096;

    /// <summary>
    /// Direct-mapped virtual pc to block cache (as QEMU's tb_jmp_cache), each slot valid for one MMU
    /// epoch; translated code consults it for indirect jumps, the dispatcher for every lookup.
    /// </summary>
    public readonly TranslatedBlock?[] JumpCache = new TranslatedBlock?[JumpCacheSize];
    public readonly long[] JumpEpoch = new long[JumpCacheSize];

    /// <summary>When profiling by instrumentation: the edges translated code records (blocks are then compiled with counting code).</summary>
    public Profiling.ControlFlowProfile? Profile;

    /// <summary>The block that returned to the dispatcher last (its exit index refers to its exits).</summary>
    public TranslatedBlock? LastBlock;

    /// <summary>Drops every translation (FENCE.I).</summary>
    public readonly Action FlushCode;

    /// <summary>Callouts made by translated code (statistics).</summary>
    public long Callouts;
}
