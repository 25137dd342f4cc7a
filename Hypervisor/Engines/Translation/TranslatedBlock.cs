using Hypervisor.Cpu;
using Hypervisor.Isa;

namespace Hypervisor.Engines.Translation;

/// <summary>What a translation is keyed by: the same guest code at the same place in the same mode.</summary>
/// <remarks>
/// Virtual pc is part of the key because translated code bakes in pc-relative values (AUIPC, JAL);
/// physical pc because that is what self-modifying-code tracking sees; privilege and the
/// translation regime (satp.MODE) because QEMU keys its blocks by them too.
/// </remarks>
public readonly record struct BlockKey(uint VirtualPc, uint PhysicalPc, Privilege Privilege, bool Paged);

/// <summary>One instruction of a block, with the address it was fetched from.</summary>
public readonly record struct TraceInstruction(uint Pc, Instruction Instruction);

/// <summary>
/// A translated block's entry point: runs the block starting at hart cycle <paramref name="cycle"/>;
/// <paramref name="chainBudget"/> is how many more blocks it may jump straight into.
/// </summary>
/// <remarks>
/// The cycle and the budget travel in argument registers from block to block, so chained blocks
/// do not wait on a store-to-load round trip through memory for them.
/// </remarks>
public delegate int BlockCode(ulong cycle, int chainBudget);

/// <summary>How a translated block ended: its return value.</summary>
/// <remarks>A value of zero or more is the index of a static exit in <see cref="TranslatedBlock.Exits"/>.</remarks>
public static class BlockExit
{
    /// <summary>Continues at <see cref="HartState.Pc"/>: indirect jump, callout, trap, or attention.</summary>
    public const int Dynamic = -1;

    /// <summary>The block ended in WFI with nothing pending.</summary>
    public const int Idle = -2;

    /// <summary>A load or store at <see cref="HartState.Pc"/> missed the TLB: the dispatcher runs it on the interpreter (slow path, MMIO, fault).</summary>
    public const int MemoryMiss = -3;
}

/// <summary>A static exit of a block (a branch target, a jump target, the fall-through), with its chaining link.</summary>
/// <remarks>Fields, not properties: translated code reads them to jump straight to the next block.</remarks>
public sealed class BlockExitLink
{
    public BlockExitLink(uint target) => Target = target;

    public readonly uint Target;

    /// <summary>The block this exit went to last time, valid while <see cref="Epoch"/> matches the MMU's.</summary>
    public TranslatedBlock? Link;

    public long Epoch;
}

/// <summary>
/// One guest block compiled to a .NET delegate: a region of code within one page (see
/// <see cref="BlockDecoder"/>) — loops, if/else bodies, calls and their returns inside it — so
/// blocks are much longer than basic blocks and dispatch is rarer.
/// </summary>
public sealed class TranslatedBlock
{
    public TranslatedBlock(BlockKey key, int length, uint physicalLow, uint physicalHigh, IReadOnlyList<uint> exitTargets)
    {
        Key = key;
        Length = length;
        EntryPc = key.VirtualPc;
        Mode = key.Privilege;
        PhysicalStart = physicalLow;
        PhysicalEnd = physicalHigh;
        Exits = new BlockExitLink[exitTargets.Count];
        for (int i = 0; i < Exits.Length; i++)
        {
            Exits[i] = new BlockExitLink(exitTargets[i]);
        }
    }

    public BlockKey Key { get; }

    // Fields read by translated code when it chains to this block.

    /// <summary>Guest instructions in the block: the most one pass through it executes.</summary>
    public readonly int Length;

    /// <summary>Virtual pc and privilege the block was translated for.</summary>
    public readonly uint EntryPc;
    public readonly Privilege Mode;

    /// <summary>The compiled code, bound to its <see cref="BlockFrame"/>; returns an exit index or a <see cref="BlockExit"/> code.</summary>
    public BlockCode Code = null!;

    /// <summary>False once a store into its bytes (or a flush) invalidated it; links to it are then ignored.</summary>
    public bool Valid = true;

    public readonly BlockExitLink[] Exits;

    /// <summary>Physical byte range of the page the block's instructions come from ([low, high)).</summary>
    public uint PhysicalStart { get; }

    public uint PhysicalEnd { get; }

    /// <summary>Times the dispatcher entered this block (profiling).</summary>
    public long Entries;
}
