namespace Hypervisor.Isa;

/// <summary>Turns a 32-bit instruction word into an <see cref="Instruction"/>, using a mask/match table.</summary>
/// <remarks>
/// The table is data, in the spirit of QEMU's insn32.decode: each row says which bits must match
/// and how the operands are laid out. Anything that matches no row is <see cref="Opcode.Illegal"/>
/// (that includes every compressed encoding, since the C extension is absent).
/// </remarks>
public static class Decoder
{
    private enum Format : byte { R, I, Shift, S, B, U, J, Csr, CsrImm, Amo, None }

    private readonly record struct Pattern(uint Mask, uint Match, Opcode Op, Format Format);

    private const uint RMask = 0xFE00707F;   // funct7 + funct3 + opcode
    private const uint IMask = 0x0000707F;   // funct3 + opcode
    private const uint AmoMask = 0xF800707F; // funct5 + funct3 + opcode (aq/rl free)

    private static readonly Pattern[] Patterns =
    [
        new(0x7F, 0x37, Opcode.Lui, Format.U),
        new(0x7F, 0x17, Opcode.Auipc, Format.U),
        new(0x7F, 0x6F, Opcode.Jal, Format.J),
        new(IMask, 0x0067, Opcode.Jalr, Format.I),

        new(IMask, 0x0063, Opcode.Beq, Format.B),
        new(IMask, 0x1063, Opcode.Bne, Format.B),
        new(IMask, 0x4063, Opcode.Blt, Format.B),
        new(IMask, 0x5063, Opcode.Bge, Format.B),
        new(IMask, 0x6063, Opcode.Bltu, Format.B),
        new(IMask, 0x7063, Opcode.Bgeu, Format.B),

        new(IMask, 0x0003, Opcode.Lb, Format.I),
        new(IMask, 0x1003, Opcode.Lh, Format.I),
        new(IMask, 0x2003, Opcode.Lw, Format.I),
        new(IMask, 0x4003, Opcode.Lbu, Format.I),
        new(IMask, 0x5003, Opcode.Lhu, Format.I),

        new(IMask, 0x0023, Opcode.Sb, Format.S),
        new(IMask, 0x1023, Opcode.Sh, Format.S),
        new(IMask, 0x2023, Opcode.Sw, Format.S),

        new(IMask, 0x0013, Opcode.Addi, Format.I),
        new(IMask, 0x2013, Opcode.Slti, Format.I),
        new(IMask, 0x3013, Opcode.Sltiu, Format.I),
        new(IMask, 0x4013, Opcode.Xori, Format.I),
        new(IMask, 0x6013, Opcode.Ori, Format.I),
        new(IMask, 0x7013, Opcode.Andi, Format.I),
        new(RMask, 0x00001013, Opcode.Slli, Format.Shift),
        new(RMask, 0x00005013, Opcode.Srli, Format.Shift),
        new(RMask, 0x40005013, Opcode.Srai, Format.Shift),

        new(RMask, 0x00000033, Opcode.Add, Format.R),
        new(RMask, 0x40000033, Opcode.Sub, Format.R),
        new(RMask, 0x00001033, Opcode.Sll, Format.R),
        new(RMask, 0x00002033, Opcode.Slt, Format.R),
        new(RMask, 0x00003033, Opcode.Sltu, Format.R),
        new(RMask, 0x00004033, Opcode.Xor, Format.R),
        new(RMask, 0x00005033, Opcode.Srl, Format.R),
        new(RMask, 0x40005033, Opcode.Sra, Format.R),
        new(RMask, 0x00006033, Opcode.Or, Format.R),
        new(RMask, 0x00007033, Opcode.And, Format.R),

        new(RMask, 0x02000033, Opcode.Mul, Format.R),
        new(RMask, 0x02001033, Opcode.Mulh, Format.R),
        new(RMask, 0x02002033, Opcode.Mulhsu, Format.R),
        new(RMask, 0x02003033, Opcode.Mulhu, Format.R),
        new(RMask, 0x02004033, Opcode.Div, Format.R),
        new(RMask, 0x02005033, Opcode.Divu, Format.R),
        new(RMask, 0x02006033, Opcode.Rem, Format.R),
        new(RMask, 0x02007033, Opcode.Remu, Format.R),

        new(0xF9F0707F, 0x1000202F, Opcode.LrW, Format.Amo),
        new(AmoMask, 0x1800202F, Opcode.ScW, Format.Amo),
        new(AmoMask, 0x0800202F, Opcode.AmoswapW, Format.Amo),
        new(AmoMask, 0x0000202F, Opcode.AmoaddW, Format.Amo),
        new(AmoMask, 0x2000202F, Opcode.AmoxorW, Format.Amo),
        new(AmoMask, 0x6000202F, Opcode.AmoandW, Format.Amo),
        new(AmoMask, 0x4000202F, Opcode.AmoorW, Format.Amo),
        new(AmoMask, 0x8000202F, Opcode.AmominW, Format.Amo),
        new(AmoMask, 0xA000202F, Opcode.AmomaxW, Format.Amo),
        new(AmoMask, 0xC000202F, Opcode.AmominuW, Format.Amo),
        new(AmoMask, 0xE000202F, Opcode.AmomaxuW, Format.Amo),

        // FENCE's pred/succ/fm and FENCE.I's spare fields are ignored, as the spec lets implementations do.
        new(IMask, 0x000F, Opcode.Fence, Format.None),
        new(IMask, 0x100F, Opcode.FenceI, Format.None),

        new(0xFFFFFFFF, 0x00000073, Opcode.Ecall, Format.None),
        new(0xFFFFFFFF, 0x00100073, Opcode.Ebreak, Format.None),
        new(0xFFFFFFFF, 0x30200073, Opcode.Mret, Format.None),
        new(0xFFFFFFFF, 0x10200073, Opcode.Sret, Format.None),
        new(0xFFFFFFFF, 0x10500073, Opcode.Wfi, Format.None),
        new(0xFE007FFF, 0x12000073, Opcode.SfenceVma, Format.R),

        new(IMask, 0x1073, Opcode.Csrrw, Format.Csr),
        new(IMask, 0x2073, Opcode.Csrrs, Format.Csr),
        new(IMask, 0x3073, Opcode.Csrrc, Format.Csr),
        new(IMask, 0x5073, Opcode.Csrrwi, Format.CsrImm),
        new(IMask, 0x6073, Opcode.Csrrsi, Format.CsrImm),
        new(IMask, 0x7073, Opcode.Csrrci, Format.CsrImm),
    ];

    // The table grouped by major opcode (the low 7 bits every pattern matches on), so a decode
    // scans a handful of rows instead of all of them.
    private static readonly Pattern[][] ByMajorOpcode = GroupByMajorOpcode();

    private static Pattern[][] GroupByMajorOpcode()
    {
        var groups = new Pattern[128][];
        for (int major = 0; major < 128; major++)
        {
            groups[major] = Array.FindAll(Patterns, p => (p.Match & 0x7F) == major);
        }
        return groups;
    }

    /// <summary>Decodes one instruction word.</summary>
    public static Instruction Decode(uint word)
    {
        foreach (ref readonly Pattern p in ByMajorOpcode[word & 0x7F].AsSpan())
        {
            if ((word & p.Mask) == p.Match)
            {
                return Build(word, p.Op, p.Format);
            }
        }
        return new Instruction(Opcode.Illegal, 0, 0, 0, 0, word);
    }

    private static Instruction Build(uint w, Opcode op, Format format)
    {
        int rd = (int)(w >> 7) & 31;
        int rs1 = (int)(w >> 15) & 31;
        int rs2 = (int)(w >> 20) & 31;
        return format switch
        {
            Format.R or Format.Amo => new Instruction(op, rd, rs1, rs2, 0, w),
            Format.I => new Instruction(op, rd, rs1, 0, ImmI(w), w),
            Format.Shift => new Instruction(op, rd, rs1, 0, rs2, w),
            Format.S => new Instruction(op, 0, rs1, rs2, ImmS(w), w),
            Format.B => new Instruction(op, 0, rs1, rs2, ImmB(w), w),
            Format.U => new Instruction(op, rd, 0, 0, (int)(w & 0xFFFFF000), w),
            Format.J => new Instruction(op, rd, 0, 0, ImmJ(w), w),
            Format.Csr or Format.CsrImm => new Instruction(op, rd, rs1, 0, (int)(w >> 20), w),
            _ => new Instruction(op, 0, 0, 0, 0, w),
        };
    }

    public static int ImmI(uint w) => (int)w >> 20;

    public static int ImmS(uint w) => (((int)w >> 25) << 5) | (int)((w >> 7) & 0x1F);

    public static int ImmB(uint w) =>
        (((int)w >> 31) << 12) | (int)((w << 4) & 0x800) | (int)((w >> 20) & 0x7E0) | (int)((w >> 7) & 0x1E);

    public static int ImmJ(uint w) =>
        (((int)w >> 31) << 20) | (int)(w & 0xFF000) | (int)((w >> 9) & 0x800) | (int)((w >> 20) & 0x7FE);
}
