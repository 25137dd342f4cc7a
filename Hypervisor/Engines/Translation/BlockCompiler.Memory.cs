using System.Reflection.Emit;
using Hypervisor.Isa;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Translation;

/// <summary>Emitters for loads and stores: the MMU's TLB fast path inlined, the slow path called.</summary>
internal sealed partial class BlockCompiler
{
    private static int SizeOf(Opcode op) => op switch
    {
        Opcode.Lb or Opcode.Lbu or Opcode.Sb => 1,
        Opcode.Lh or Opcode.Lhu or Opcode.Sh => 2,
        _ => 4,
    };

    /// <summary>va = rs1 + imm; entry = ref tlb[setBase + (va &gt;&gt; 12 &amp; 255)]; branch to <paramref name="miss"/> unless the tag matches.</summary>
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
        _il.Emit(OpCodes.Ldloc, _va!);
        EmitInt(12);
        _il.Emit(OpCodes.Shr_Un);
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

    /// <summary>Pushes the host address of va inside the entry's 4 KiB RAM page.</summary>
    private void EmitHostAddress()
    {
        _il.Emit(OpCodes.Ldloc, _entry!);
        _il.Emit(OpCodes.Ldfld, EntryMemory);
        _il.Emit(OpCodes.Call, ArrayData);
        _il.Emit(OpCodes.Ldloc, _va!);
        EmitInt(0xFFF);
        _il.Emit(OpCodes.And);
        _il.Emit(OpCodes.Conv_U);
        _il.Emit(OpCodes.Add);
    }

    /// <summary>
    /// Before a slow-path access: exit pc and count name this instruction (so the shared fault and
    /// attention exits need no per-access code), and the hart's cycle is exact for MMIO.
    /// </summary>
    private void EmitSlowPathPrologue(uint pc)
    {
        EmitUInt(pc);
        _il.Emit(OpCodes.Stloc, _exitPc);
        _il.Emit(OpCodes.Ldloc, _count);
        if (_offset != 0)
        {
            EmitInt(_offset);
            _il.Emit(OpCodes.Conv_I8);
            _il.Emit(OpCodes.Add);
        }
        _il.Emit(OpCodes.Stloc, _exitCount);
        _il.Emit(OpCodes.Ldloc, _state);
        _il.Emit(OpCodes.Ldloc, _base);
        _il.Emit(OpCodes.Ldloc, _exitCount);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Stfld, StateCycle);
    }

    /// <summary>After a slow-path access: leave after this instruction if the hart needs attention (MMIO side effects, code invalidated).</summary>
    private void EmitSlowPathAttentionCheck()
    {
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldfld, CtxHart);
        _il.Emit(OpCodes.Ldfld, HartAttention);
        _il.Emit(OpCodes.Brtrue, _memoryAttention);
    }

    private void EmitLoad(in Instruction i, uint pc)
    {
        int size = SizeOf(i.Op);
        Label miss = _il.DefineLabel();
        Label done = _il.DefineLabel();
        EmitTlbLookup(i, _loadSet!, size, miss);

        // Hit: read straight from the RAM chunk.
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
        _il.Emit(OpCodes.Br, done);

        // Miss: the MMU's slow path (walk, PMP, MMIO). The clock must be exact for MMIO (mtime).
        _il.MarkLabel(miss);
        EmitSlowPathPrologue(pc);
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldfld, CtxMmu);
        _il.Emit(OpCodes.Ldloc, _va!);
        EmitInt(size);
        _il.Emit(OpCodes.Ldloca, _value!);
        _il.Emit(OpCodes.Call, MmuLoadSlow);
        _il.Emit(OpCodes.Brfalse, _memoryFault);
        _il.Emit(OpCodes.Ldloc, _value!);
        if (i.Op == Opcode.Lb)
        {
            _il.Emit(OpCodes.Conv_I1);
        }
        else if (i.Op == Opcode.Lh)
        {
            _il.Emit(OpCodes.Conv_I2);
        }
        StoreReg(i.Rd);
        EmitSlowPathAttentionCheck();
        _il.MarkLabel(done);
    }

    private void EmitStore(in Instruction i, uint pc)
    {
        int size = SizeOf(i.Op);
        Label miss = _il.DefineLabel();
        Label done = _il.DefineLabel();
        EmitTlbLookup(i, _storeSet!, size, miss);

        EmitHostAddress();
        LoadReg(i.Rs2);
        _il.Emit(OpCodes.Unaligned, (byte)1);
        _il.Emit(size switch { 1 => OpCodes.Stind_I1, 2 => OpCodes.Stind_I2, _ => OpCodes.Stind_I4 });
        _il.Emit(OpCodes.Br, done);

        // Miss: slow path. Code pages never have a store mapping, so a store into translated
        // code always arrives here; the invalidation raises Attention and the block stops.
        _il.MarkLabel(miss);
        EmitSlowPathPrologue(pc);
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldfld, CtxMmu);
        _il.Emit(OpCodes.Ldloc, _va!);
        EmitInt(size);
        LoadReg(i.Rs2);
        _il.Emit(OpCodes.Call, MmuStoreSlow);
        _il.Emit(OpCodes.Brfalse, _memoryFault);
        EmitSlowPathAttentionCheck();
        _il.MarkLabel(done);
    }
}
