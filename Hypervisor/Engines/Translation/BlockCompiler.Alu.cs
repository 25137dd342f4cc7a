using System.Reflection;
using System.Reflection.Emit;
using Hypervisor.Isa;

namespace Hypervisor.Engines.Translation;

/// <summary>Emitters for the register-only instructions (RV32I ALU, LUI/AUIPC, M).</summary>
internal sealed partial class BlockCompiler
{
    private static readonly MethodInfo AluDiv = typeof(Alu).GetMethod(nameof(Alu.Div))!;
    private static readonly MethodInfo AluDivu = typeof(Alu).GetMethod(nameof(Alu.Divu))!;
    private static readonly MethodInfo AluRem = typeof(Alu).GetMethod(nameof(Alu.Rem))!;
    private static readonly MethodInfo AluRemu = typeof(Alu).GetMethod(nameof(Alu.Remu))!;

    private void EmitAlu(in Instruction i, uint pc)
    {
        if (i.Rd == 0)
        {
            return; // register-only instructions that write x0 have no effect
        }
        switch (i.Op)
        {
            case Opcode.Lui: EmitInt(i.Imm); break;
            case Opcode.Auipc: EmitUInt(pc + (uint)i.Imm); break;

            case Opcode.Addi: Imm(i, OpCodes.Add); break;
            case Opcode.Xori: Imm(i, OpCodes.Xor); break;
            case Opcode.Ori: Imm(i, OpCodes.Or); break;
            case Opcode.Andi: Imm(i, OpCodes.And); break;
            case Opcode.Slti: Imm(i, OpCodes.Clt); break;
            case Opcode.Sltiu: Imm(i, OpCodes.Clt_Un); break;
            case Opcode.Slli: Imm(i, OpCodes.Shl); break;
            case Opcode.Srli: Imm(i, OpCodes.Shr_Un); break;
            case Opcode.Srai: Imm(i, OpCodes.Shr); break;

            case Opcode.Add: Reg(i, OpCodes.Add); break;
            case Opcode.Sub: Reg(i, OpCodes.Sub); break;
            case Opcode.Xor: Reg(i, OpCodes.Xor); break;
            case Opcode.Or: Reg(i, OpCodes.Or); break;
            case Opcode.And: Reg(i, OpCodes.And); break;
            case Opcode.Slt: Reg(i, OpCodes.Clt); break;
            case Opcode.Sltu: Reg(i, OpCodes.Clt_Un); break;
            case Opcode.Sll: Shift(i, OpCodes.Shl); break;
            case Opcode.Srl: Shift(i, OpCodes.Shr_Un); break;
            case Opcode.Sra: Shift(i, OpCodes.Shr); break;

            case Opcode.Mul: Reg(i, OpCodes.Mul); break;
            case Opcode.Mulh: MulHigh(i, OpCodes.Conv_I8, OpCodes.Conv_I8, OpCodes.Shr); break;
            case Opcode.Mulhsu: MulHigh(i, OpCodes.Conv_I8, OpCodes.Conv_U8, OpCodes.Shr); break;
            case Opcode.Mulhu: MulHigh(i, OpCodes.Conv_U8, OpCodes.Conv_U8, OpCodes.Shr_Un); break;
            case Opcode.Div: Call(i, AluDiv); break;
            case Opcode.Divu: Call(i, AluDivu); break;
            case Opcode.Rem: Call(i, AluRem); break;
            case Opcode.Remu: Call(i, AluRemu); break;
            default:
                throw new InvalidOperationException($"not an ALU instruction: {i.Op}");
        }
        StoreReg(i.Rd);
    }

    private void Imm(in Instruction i, OpCode op)
    {
        LoadReg(i.Rs1);
        EmitInt(i.Imm);
        _il.Emit(op);
    }

    private void Reg(in Instruction i, OpCode op)
    {
        LoadReg(i.Rs1);
        LoadReg(i.Rs2);
        _il.Emit(op);
    }

    private void Shift(in Instruction i, OpCode op)
    {
        // IL leaves shifts by 32 or more undefined; RISC-V takes the low five bits.
        LoadReg(i.Rs1);
        LoadReg(i.Rs2);
        EmitInt(31);
        _il.Emit(OpCodes.And);
        _il.Emit(op);
    }

    private void MulHigh(in Instruction i, OpCode widenA, OpCode widenB, OpCode shift)
    {
        LoadReg(i.Rs1);
        _il.Emit(widenA);
        LoadReg(i.Rs2);
        _il.Emit(widenB);
        _il.Emit(OpCodes.Mul);
        EmitInt(32);
        _il.Emit(shift);
        _il.Emit(OpCodes.Conv_U4);
    }

    private void Call(in Instruction i, MethodInfo helper)
    {
        LoadReg(i.Rs1);
        LoadReg(i.Rs2);
        _il.Emit(OpCodes.Call, helper);
    }
}
