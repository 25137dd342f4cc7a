using Hypervisor.Cpu;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Translation;

/// <summary>The object one translated block's delegate is bound to: its hidden first argument.</summary>
/// <remarks>
/// Binding the delegate to an object (CreateDelegate with a target) avoids the argument-shuffle
/// thunk of open static delegates. The frame carries what the emitted IL reads: the VM's register
/// array, hart state and MMU (copied from the VM's <see cref="TranslationContext"/> to save an
/// indirection), and the block's own exits, so that an exit can jump straight into the next block.
/// </remarks>
public sealed class BlockFrame
{
    public BlockFrame(TranslationContext context, TranslatedBlock block, Isa.Instruction[] callouts)
    {
        Callouts = callouts;
        Context = context;
        Registers = context.Registers;
        State = context.State;
        Mmu = context.Mmu;
        Hart = context.Hart;
        Block = block;
        Exits = block.Exits;
        Profile = context.Profile;
    }

    public readonly TranslationContext Context;
    public readonly uint[] Registers;
    public readonly HartState State;
    public readonly Mmu Mmu;
    public readonly Hart Hart;
    public readonly TranslatedBlock Block;
    public readonly BlockExitLink[] Exits;

    /// <summary>The block's callout instructions, decoded when it was compiled (shared by every VM running the same code).</summary>
    public readonly Isa.Instruction[] Callouts;
    public readonly Profiling.ControlFlowProfile? Profile;
}
