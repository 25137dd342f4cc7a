using Hypervisor.Cpu;
using Hypervisor.Isa;

namespace Hypervisor.Engines.Translation;

/// <summary>
/// The monitor routines translated code calls: raising a fault with the exact pc, and callouts for
/// the instructions that are emulated rather than inlined (system instructions, atomics, illegal
/// encodings). Before each call the block has written back its registers, pc and cycle.
/// </summary>
public static class BlockRuntime
{
    /// <summary>The MMU refused an access of the instruction at State.Pc: raise its fault.</summary>
    public static int Fault(TranslationContext c)
    {
        c.Hart.RaiseException(c.Mmu.FaultCause, c.Mmu.FaultValue);
        c.State.Cycle++;
        return BlockExit.Dynamic;
    }

    /// <summary>A jump or branch at State.Pc targets a misaligned address.</summary>
    public static int Misaligned(TranslationContext c, uint target)
    {
        c.Hart.RaiseException(ExceptionCause.InstructionAddressMisaligned, target);
        c.State.Cycle++;
        return BlockExit.Dynamic;
    }

    /// <summary>Emulates the instruction <paramref name="i"/> (decoded when the block was compiled) at State.Pc: a system instruction, an atomic or an illegal encoding.</summary>
    public static int Callout(TranslationContext c, in Instruction i)
    {
        c.Callouts++;
        HartState s = c.State;
        if (OpcodeInfo.IsMemory(i.Op))
        {
            if (!Atomics.Execute(s, c.Mmu, i))
            {
                return Fault(c);
            }
            s.Pc += 4;
            s.Cycle++;
            return BlockExit.Dynamic;
        }
        SystemOutcome outcome = c.Hart.ExecuteSystem(i);
        s.Cycle++;
        s.X[0] = 0;
        switch (outcome)
        {
            case SystemOutcome.FlushCode:
                c.FlushCode();
                return BlockExit.Dynamic;
            case SystemOutcome.Idle:
                return BlockExit.Idle;
            default:
                return BlockExit.Dynamic;
        }
    }

    /// <summary>What <see cref="CalloutInBlock"/> returns when the block may go on with its next instruction.</summary>
    public const int CarryOn = -100;

    /// <summary>
    /// A callout in the middle of a block (a CSR instruction or an atomic): <see cref="CarryOn"/>
    /// when it only wrote its destination register and went on to the next instruction — no trap,
    /// no change of privilege, MMU epoch or TLB sets, nothing needing attention — so the block can
    /// carry on without a trip through the dispatcher; otherwise the exit code, as
    /// <see cref="Callout"/> returns it.
    /// </summary>
    public static int CalloutInBlock(TranslationContext c, in Instruction i)
    {
        HartState s = c.State;
        uint pc = s.Pc;
        Privilege privilege = s.Privilege;
        long epoch = c.Mmu.FlushEpoch;
        nint loadSet = c.Mmu.LoadSetAddress;
        nint storeSet = c.Mmu.StoreSetAddress;
        int exit = Callout(c, i);
        if (exit == BlockExit.Dynamic && s.Pc == pc + 4 && s.Privilege == privilege && c.Mmu.FlushEpoch == epoch &&
            c.Hart.Attention == 0 && c.Mmu.LoadSetAddress == loadSet && c.Mmu.StoreSetAddress == storeSet)
        {
            return CarryOn;
        }
        return exit;
    }

    /// <summary>Callouts after which a block may carry on (<see cref="CalloutInBlock"/>): CSR instructions and atomics.</summary>
    public static bool MayCarryOn(Opcode op) => op is (>= Opcode.Csrrw and <= Opcode.Csrrci) or (>= Opcode.LrW and <= Opcode.AmomaxuW);

    /// <summary>
    /// The block an indirect jump to <paramref name="pc"/> may chain into: the jump cache's entry,
    /// if it is for this pc and mode and was made in the current MMU epoch (validity, cycle limit
    /// and attention are checked by the caller).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static TranslatedBlock? ChainTarget(BlockFrame frame, uint pc)
    {
        TranslationContext c = frame.Context;
        int slot = (int)(pc >> 2) & (TranslationContext.JumpCacheSize - 1);
        TranslatedBlock? next = c.JumpCache[slot];
        if (next is null || next.EntryPc != pc || next.Mode != c.State.Privilege || c.JumpEpoch[slot] != c.Mmu.FlushEpoch)
        {
            return null;
        }
        return next;
    }

    /// <summary>
    /// Block chaining, decided out of line: the compiled code of the block an exit leads to, when
    /// it is known (a static exit's link made in the current MMU epoch, or the jump cache for an
    /// indirect jump), still valid, fits before the cycle limit, nothing needs attention and the
    /// chain budget lasts; otherwise null, with the block recorded for the dispatcher. One call
    /// here instead of the same checks in every block keeps each block's IL (its JIT time) smaller.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static BlockCode? Next(BlockFrame frame, int kind, uint exitPc, ulong cycle, int chainBudget)
    {
        TranslationContext c = frame.Context;
        TranslatedBlock? next = null;
        if (kind >= 0)
        {
            BlockExitLink link = frame.Exits[kind];
            if (link.Epoch == c.Mmu.FlushEpoch)
            {
                next = link.Link;
            }
        }
        else if (kind == BlockExit.Dynamic)
        {
            next = ChainTarget(frame, exitPc);
        }
        if (next is null || !next.Valid || cycle + (ulong)next.Length > c.CycleLimit || c.Hart.Attention != 0 || chainBudget <= 0)
        {
            c.LastBlock = frame.Block;
            return null;
        }
        return next.Code;
    }
}
