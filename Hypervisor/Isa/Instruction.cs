using System.Runtime.InteropServices;

namespace Hypervisor.Isa;

/// <summary>A decoded instruction: the opcode, register numbers and the sign-extended immediate, computed once.</summary>
/// <remarks>
/// For CSR instructions <see cref="Imm"/> holds the CSR number and, in the immediate forms,
/// <see cref="Rs1"/> holds the 5-bit zimm. <see cref="Raw"/> keeps the word for mtval on an
/// illegal-instruction trap and for disassembly.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public readonly struct Instruction
{
    public readonly Opcode Op;
    public readonly byte Rd;
    public readonly byte Rs1;
    public readonly byte Rs2;
    public readonly int Imm;
    public readonly uint Raw;

    public Instruction(Opcode op, int rd, int rs1, int rs2, int imm, uint raw)
    {
        Op = op;
        Rd = (byte)rd;
        Rs1 = (byte)rs1;
        Rs2 = (byte)rs2;
        Imm = imm;
        Raw = raw;
    }

    /// <summary>The CSR address of a Zicsr instruction.</summary>
    public int Csr => Imm & 0xFFF;

    public override string ToString() => Disassembler.Format(this, 0);
}
