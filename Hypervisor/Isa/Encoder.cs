namespace Hypervisor.Isa;

/// <summary>Encodes instructions into 32-bit words: the inverse of <see cref="Decoder"/>.</summary>
/// <remarks>Used by the fuzzer to generate programs and write them out, and by tests to craft guests.</remarks>
public static class Encoder
{
    /// <summary>Encodes <paramref name="op"/> with its operands; the immediate's meaning follows the instruction's format.</summary>
    public static uint Encode(Opcode op, int rd = 0, int rs1 = 0, int rs2 = 0, int imm = 0) => op switch
    {
        Opcode.Lui => U(0x37, rd, imm),
        Opcode.Auipc => U(0x17, rd, imm),
        Opcode.Jal => J(rd, imm),
        Opcode.Jalr => I(0x67, 0, rd, rs1, imm),

        Opcode.Beq => B(0, rs1, rs2, imm),
        Opcode.Bne => B(1, rs1, rs2, imm),
        Opcode.Blt => B(4, rs1, rs2, imm),
        Opcode.Bge => B(5, rs1, rs2, imm),
        Opcode.Bltu => B(6, rs1, rs2, imm),
        Opcode.Bgeu => B(7, rs1, rs2, imm),

        Opcode.Lb => I(0x03, 0, rd, rs1, imm),
        Opcode.Lh => I(0x03, 1, rd, rs1, imm),
        Opcode.Lw => I(0x03, 2, rd, rs1, imm),
        Opcode.Lbu => I(0x03, 4, rd, rs1, imm),
        Opcode.Lhu => I(0x03, 5, rd, rs1, imm),
        Opcode.Sb => S(0, rs1, rs2, imm),
        Opcode.Sh => S(1, rs1, rs2, imm),
        Opcode.Sw => S(2, rs1, rs2, imm),

        Opcode.Addi => I(0x13, 0, rd, rs1, imm),
        Opcode.Slti => I(0x13, 2, rd, rs1, imm),
        Opcode.Sltiu => I(0x13, 3, rd, rs1, imm),
        Opcode.Xori => I(0x13, 4, rd, rs1, imm),
        Opcode.Ori => I(0x13, 6, rd, rs1, imm),
        Opcode.Andi => I(0x13, 7, rd, rs1, imm),
        Opcode.Slli => R(0x13, 1, 0x00, rd, rs1, imm & 31),
        Opcode.Srli => R(0x13, 5, 0x00, rd, rs1, imm & 31),
        Opcode.Srai => R(0x13, 5, 0x20, rd, rs1, imm & 31),

        Opcode.Add => R(0x33, 0, 0x00, rd, rs1, rs2),
        Opcode.Sub => R(0x33, 0, 0x20, rd, rs1, rs2),
        Opcode.Sll => R(0x33, 1, 0x00, rd, rs1, rs2),
        Opcode.Slt => R(0x33, 2, 0x00, rd, rs1, rs2),
        Opcode.Sltu => R(0x33, 3, 0x00, rd, rs1, rs2),
        Opcode.Xor => R(0x33, 4, 0x00, rd, rs1, rs2),
        Opcode.Srl => R(0x33, 5, 0x00, rd, rs1, rs2),
        Opcode.Sra => R(0x33, 5, 0x20, rd, rs1, rs2),
        Opcode.Or => R(0x33, 6, 0x00, rd, rs1, rs2),
        Opcode.And => R(0x33, 7, 0x00, rd, rs1, rs2),

        Opcode.Mul => R(0x33, 0, 0x01, rd, rs1, rs2),
        Opcode.Mulh => R(0x33, 1, 0x01, rd, rs1, rs2),
        Opcode.Mulhsu => R(0x33, 2, 0x01, rd, rs1, rs2),
        Opcode.Mulhu => R(0x33, 3, 0x01, rd, rs1, rs2),
        Opcode.Div => R(0x33, 4, 0x01, rd, rs1, rs2),
        Opcode.Divu => R(0x33, 5, 0x01, rd, rs1, rs2),
        Opcode.Rem => R(0x33, 6, 0x01, rd, rs1, rs2),
        Opcode.Remu => R(0x33, 7, 0x01, rd, rs1, rs2),

        Opcode.LrW => R(0x2F, 2, 0x02 << 2, rd, rs1, 0),
        Opcode.ScW => R(0x2F, 2, 0x03 << 2, rd, rs1, rs2),
        Opcode.AmoswapW => R(0x2F, 2, 0x01 << 2, rd, rs1, rs2),
        Opcode.AmoaddW => R(0x2F, 2, 0x00 << 2, rd, rs1, rs2),
        Opcode.AmoxorW => R(0x2F, 2, 0x04 << 2, rd, rs1, rs2),
        Opcode.AmoandW => R(0x2F, 2, 0x0C << 2, rd, rs1, rs2),
        Opcode.AmoorW => R(0x2F, 2, 0x08 << 2, rd, rs1, rs2),
        Opcode.AmominW => R(0x2F, 2, 0x10 << 2, rd, rs1, rs2),
        Opcode.AmomaxW => R(0x2F, 2, 0x14 << 2, rd, rs1, rs2),
        Opcode.AmominuW => R(0x2F, 2, 0x18 << 2, rd, rs1, rs2),
        Opcode.AmomaxuW => R(0x2F, 2, 0x1C << 2, rd, rs1, rs2),

        Opcode.Fence => 0x0FF0000F,
        Opcode.FenceI => 0x0000100F,
        Opcode.Ecall => 0x00000073,
        Opcode.Ebreak => 0x00100073,
        Opcode.Mret => 0x30200073,
        Opcode.Sret => 0x10200073,
        Opcode.Wfi => 0x10500073,
        Opcode.SfenceVma => R(0x73, 0, 0x09, 0, rs1, rs2),

        Opcode.Csrrw => I(0x73, 1, rd, rs1, imm & 0xFFF),
        Opcode.Csrrs => I(0x73, 2, rd, rs1, imm & 0xFFF),
        Opcode.Csrrc => I(0x73, 3, rd, rs1, imm & 0xFFF),
        Opcode.Csrrwi => I(0x73, 5, rd, rs1, imm & 0xFFF),
        Opcode.Csrrsi => I(0x73, 6, rd, rs1, imm & 0xFFF),
        Opcode.Csrrci => I(0x73, 7, rd, rs1, imm & 0xFFF),

        Opcode.Nop => I(0x13, 0, 0, 0, 0),
        _ => 0, // all zeros is an illegal instruction
    };

    /// <summary>Re-encodes a decoded instruction (its canonical encoding).</summary>
    public static uint Encode(in Instruction i) => Encode(i.Op, i.Rd, i.Rs1, i.Rs2, i.Imm);

    private static uint R(uint opcode, uint funct3, uint funct7, int rd, int rs1, int rs2) =>
        opcode | ((uint)(rd & 31) << 7) | (funct3 << 12) | ((uint)(rs1 & 31) << 15) | ((uint)(rs2 & 31) << 20) | (funct7 << 25);

    private static uint I(uint opcode, uint funct3, int rd, int rs1, int imm) =>
        opcode | ((uint)(rd & 31) << 7) | (funct3 << 12) | ((uint)(rs1 & 31) << 15) | ((uint)imm << 20);

    private static uint S(uint funct3, int rs1, int rs2, int imm) =>
        0x23 | (((uint)imm & 0x1F) << 7) | (funct3 << 12) | ((uint)(rs1 & 31) << 15) | ((uint)(rs2 & 31) << 20) | (((uint)imm >> 5 & 0x7F) << 25);

    private static uint B(uint funct3, int rs1, int rs2, int imm)
    {
        uint u = (uint)imm;
        return 0x63 | (((u >> 11) & 1) << 7) | (((u >> 1) & 0xF) << 8) | (funct3 << 12) | ((uint)(rs1 & 31) << 15) |
               ((uint)(rs2 & 31) << 20) | (((u >> 5) & 0x3F) << 25) | (((u >> 12) & 1) << 31);
    }

    private static uint U(uint opcode, int rd, int imm) => opcode | ((uint)(rd & 31) << 7) | ((uint)imm & 0xFFFFF000);

    private static uint J(int rd, int imm)
    {
        uint u = (uint)imm;
        return 0x6F | ((uint)(rd & 31) << 7) | (u & 0xFF000) | (((u >> 11) & 1) << 20) | (((u >> 1) & 0x3FF) << 21) | (((u >> 20) & 1) << 31);
    }

    /// <summary>Splits a 32-bit constant into LUI + ADDI immediates (hi includes the carry of lo's sign).</summary>
    public static (int Hi, int Lo) SplitConstant(uint value)
    {
        int lo = (int)(value << 20) >> 20;
        int hi = (int)(value - (uint)lo);
        return (hi, lo);
    }
}
