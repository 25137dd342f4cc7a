using System.Reflection.Emit;
using Hypervisor.Isa;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Translation;

/// <summary>Emitters for loads and stores: the MMU's TLB fast path inlined; a miss leaves the block.</summary>
internal sealed partial class BlockCompiler
{
    private static int SizeOf(Opcode op) => op switch
    {
        Opcode.Lb or Opcode.Lbu or Opcode.Sb => 1,
        Opcode.Lh or Opcode.Lhu or Opcode.Sh => 2,
        _ => 4,
    };

    /// <summary>va = rs1 + imm; entry = ref tlb[setBase + TlbIndex(va)]; branch to <paramref name="miss"/> unless the tag matches.</summary>
    private void EmitTlbLookup(in Instruction i, LocalBuilder setBase, int size, Label miss)
    {
        LoadReg(i.Rs1);
        if (i.Imm != 0)
        {
            EmitInt(i.Imm);
            _il.Emit(OpCodes.Add);
        }
        _il.Emit(OpCodes.Stloc, _va!);
        _il.Emit(OpCodes.Ldloc, setBase);
        _il.Emit(OpCodes.Ldloc, _va!); // Mmu.TlbIndex(va)
        EmitInt(12);
        _il.Emit(OpCodes.Shr_Un);
        _il.Emit(OpCodes.Ldloc, _va!);
        EmitInt(20);
        _il.Emit(OpCodes.Shr_Un);
        _il.Emit(OpCodes.Xor);
        EmitInt(Mmu.TlbSize - 1);
        _il.Emit(OpCodes.And);
        _il.Emit(OpCodes.Conv_U);
        _il.Emit(OpCodes.Sizeof, typeof(TlbEntry));
        _il.Emit(OpCodes.Mul);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Stloc, _entry!);
        _il.Emit(OpCodes.Ldloc, _entry!);
        _il.Emit(OpCodes.Ldfld, EntryTag);
        _il.Emit(OpCodes.Ldloc, _va!);
        EmitUInt(0xFFFFF000u | (uint)(size - 1));
        _il.Emit(OpCodes.And);
        _il.Emit(OpCodes.Bne_Un, miss);
    }

    /// <summary>Pushes the host address of va: the entry's addend plus va (RAM pages are pinned).</summary>
    private void EmitHostAddress()
    {
        _il.Emit(OpCodes.Ldloc, _entry!);
        _il.Emit(OpCodes.Ldfld, EntryAddend);
        _il.Emit(OpCodes.Ldloc, _va!);
        _il.Emit(OpCodes.Conv_U);
        _il.Emit(OpCodes.Add);
    }

    private void EmitLoad(in Instruction i, uint pc)
    {
        int size = SizeOf(i.Op);
        EmitTlbLookup(i, _loadSet!, size, MissExit(pc));
        EmitHostAddress();
        _il.Emit(OpCodes.Unaligned, (byte)1);
        _il.Emit(i.Op switch
        {
            Opcode.Lb => OpCodes.Ldind_I1,
            Opcode.Lbu => OpCodes.Ldind_U1,
            Opcode.Lh => OpCodes.Ldind_I2,
            Opcode.Lhu => OpCodes.Ldind_U2,
            _ => OpCodes.Ldind_U4,
        });
        StoreReg(i.Rd);
    }

    private void EmitStore(in Instruction i, uint pc)
    {
        int size = SizeOf(i.Op);
        // Code pages never have a store mapping, so a store into translated code always misses.
        EmitTlbLookup(i, _storeSet!, size, MissExit(pc));
        EmitHostAddress();
        LoadReg(i.Rs2);
        _il.Emit(OpCodes.Unaligned, (byte)1);
        _il.Emit(size switch { 1 => OpCodes.Stind_I1, 2 => OpCodes.Stind_I2, _ => OpCodes.Stind_I4 });
    }

    /// <summary>
    /// A TLB miss leaves the block before the access (<see cref="BlockExit.MemoryMiss"/>): the
    /// dispatcher runs that one instruction on the interpreter (page walk, MMIO, fault, code
    /// invalidation) and carries on. With no call inside the block, the JIT keeps guest registers
    /// in host registers across accesses and has less to compile; misses are rare once the TLB is warm.
    /// </summary>
    private Label MissExit(uint pc) => Stub(pc, _offset, BlockExit.MemoryMiss);
}
