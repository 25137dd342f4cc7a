using System.Reflection.Emit;
using Hypervisor.Isa;

namespace Hypervisor.Engines.Translation;

/// <summary>Emitters for control flow: branches and jumps inside the block or out of it, indirect jumps, callouts.</summary>
internal sealed partial class BlockCompiler
{
    private void EmitBranch(in Instruction i, uint pc, int k)
    {
        Label notTaken = _il.DefineLabel();
        LoadReg(i.Rs1);
        LoadReg(i.Rs2);
        // Branch on the inverted condition to the fall-through path; the taken path follows.
        _il.Emit(i.Op switch
        {
            Opcode.Beq => OpCodes.Bne_Un,
            Opcode.Bne => OpCodes.Beq,
            Opcode.Blt => OpCodes.Bge,
            Opcode.Bge => OpCodes.Blt,
            Opcode.Bltu => OpCodes.Bge_Un,
            _ => OpCodes.Blt_Un,
        }, notTaken);
        int saved = _offset;
        EmitJumpTo(pc + (uint)i.Imm, pc, k);
        _offset = saved + 1;
        _il.MarkLabel(notTaken);
        EmitRecordEdge(pc, pc + 4);
    }

    private void EmitJal(in Instruction i, uint pc, int k)
    {
        uint target = pc + (uint)i.Imm;
        if ((target & 3) == 0 && i.Rd != 0)
        {
            EmitUInt(pc + 4);
            StoreReg(i.Rd);
        }
        EmitJumpTo(target, pc, k);
    }

    /// <summary>
    /// Transfers control after the jump at <paramref name="pc"/> (instruction <paramref name="k"/>):
    /// a branch inside the method when the target is in the block (a backward one checks the cycle
    /// limit first), else a static exit. A misaligned target faults at the jump.
    /// </summary>
    private void EmitJumpTo(uint target, uint pc, int k)
    {
        if ((target & 3) != 0)
        {
            EmitUInt(target);
            _il.Emit(OpCodes.Stloc, _target);
            _il.Emit(OpCodes.Br, Stub(pc, _offset, KindMisaligned));
            return;
        }
        EmitRecordEdge(pc, target);
        if (!_indexOf.TryGetValue(target, out int t))
        {
            EmitExit(AddExit(target), target, 1);
            return;
        }
        EmitBranchInside(t, k);
    }

    /// <summary>
    /// Jumps from instruction <paramref name="k"/> (counted) to instruction <paramref name="t"/> of
    /// the block; a backward jump first checks that another pass of the whole block still fits
    /// before the chunk's cycle limit, so a block never runs past it (exact budgets).
    /// </summary>
    private void EmitBranchInside(int t, int k)
    {
        uint target = _code[t].Pc;
        Materialize(1);
        if (t <= k)
        {
            // A loop: go round again only while another pass of the whole block fits before the limit.
            _il.Emit(OpCodes.Ldloc, _count);
            _il.Emit(OpCodes.Ldloc, LoopLimit());
            _il.Emit(OpCodes.Bgt, Stub(target, 0, AddExit(target)));
        }
        _il.Emit(OpCodes.Br, _labels[t]);
    }

    /// <summary>JALR: target = (rs1 + imm) &amp; ~1, computed before rd is written (rd may be rs1); a dynamic exit.</summary>
    private void EmitJalr(in Instruction i, uint pc, int k)
    {
        LoadReg(i.Rs1);
        if (i.Imm != 0)
        {
            EmitInt(i.Imm);
            _il.Emit(OpCodes.Add);
        }
        EmitInt(-2);
        _il.Emit(OpCodes.And);
        _il.Emit(OpCodes.Stloc, _target);
        _il.Emit(OpCodes.Ldloc, _target);
        EmitInt(3);
        _il.Emit(OpCodes.And);
        _il.Emit(OpCodes.Brtrue, Stub(pc, _offset, KindMisaligned));
        if (i.Rd != 0)
        {
            EmitUInt(pc + 4);
            StoreReg(i.Rd);
        }
        EmitRecordEdge(pc, null);
        EmitReturnPrediction(k);
        _il.Emit(OpCodes.Ldloc, _target);
        _il.Emit(OpCodes.Stloc, _exitPc);
        _il.Emit(OpCodes.Ldloc, _count);
        EmitInt(_offset + 1);
        _il.Emit(OpCodes.Conv_I8);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Stloc, _exitCount);
        EmitInt(BlockExit.Dynamic);
        _il.Emit(OpCodes.Stloc, _exitKind);
        _il.Emit(OpCodes.Br, _epilogue);
    }

    /// <summary>Most return points a JALR compares its target with.</summary>
    private const int MaxReturnPoints = 4;

    /// <summary>
    /// Return prediction: when the target of an indirect jump (a function's return) is the return
    /// point of a call inside this region, go on there inside the method instead of leaving through
    /// the chaining helper and the jump cache. A call and its return then cost a compare or two.
    /// </summary>
    private void EmitReturnPrediction(int k)
    {
        for (int n = 0; n < _returnPoints.Count && n < MaxReturnPoints; n++)
        {
            int r = _returnPoints[n];
            Label other = _il.DefineLabel();
            _il.Emit(OpCodes.Ldloc, _target);
            EmitUInt(_code[r].Pc);
            _il.Emit(OpCodes.Bne_Un, other);
            int saved = _offset;
            EmitBranchInside(r, k);
            _offset = saved;
            _il.MarkLabel(other);
        }
    }

    /// <summary>
    /// A system instruction, atomic or illegal encoding, emulated by the monitor. A CSR
    /// instruction or an atomic that simply went on to the next instruction lets the block carry
    /// on (its destination register reloaded); anything else (a trap, a change of mode, an
    /// interrupt now pending) leaves the block.
    /// </summary>
    private void EmitCallout(in Instruction i, uint pc)
    {
        WriteBack();
        EmitSetPc(pc);
        EmitSetCycle();
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldfld, FrameContext);
        // The instruction as decoded now, from the region's table: no decoding at run time.
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldfld, FrameCallouts);
        EmitInt(_callouts.Count);
        _il.Emit(OpCodes.Ldelema, typeof(Instruction));
        _callouts.Add(i);
        if (!BlockRuntime.MayCarryOn(i.Op))
        {
            _il.Emit(OpCodes.Call, RuntimeCallout);
            _il.Emit(OpCodes.Ret);
            return;
        }
        Label carryOn = _il.DefineLabel();
        _il.Emit(OpCodes.Call, RuntimeCalloutInBlock);
        _il.Emit(OpCodes.Stloc, _exitKind);
        _il.Emit(OpCodes.Ldloc, _exitKind);
        EmitInt(BlockRuntime.CarryOn);
        _il.Emit(OpCodes.Beq, carryOn);
        _il.Emit(OpCodes.Ldloc, _exitKind);
        _il.Emit(OpCodes.Ret);
        _il.MarkLabel(carryOn);
        if (i.Rd != 0 && _reg[i.Rd] is LocalBuilder rd)
        {
            _il.Emit(OpCodes.Ldloc, _xs);
            EmitInt(4 * i.Rd);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Ldind_U4);
            _il.Emit(OpCodes.Stloc, rd);
        }
        _offset++;
    }
}
