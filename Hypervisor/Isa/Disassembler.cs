namespace Hypervisor.Isa;

/// <summary>Renders decoded instructions as assembly text, for fault reports, traces and fuzzer output.</summary>
public static class Disassembler
{
    private static readonly string[] AbiNames =
    [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
        "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    ];

    /// <summary>The ABI name of register x<paramref name="index"/>.</summary>
    public static string RegisterName(int index) => AbiNames[index & 31];

    /// <summary>Formats an instruction; <paramref name="pc"/> resolves branch and jump targets.</summary>
    public static string Format(in Instruction i, uint pc)
    {
        string rd = AbiNames[i.Rd], rs1 = AbiNames[i.Rs1], rs2 = AbiNames[i.Rs2];
        string name = Mnemonic(i.Op);
        switch (i.Op)
        {
            case Opcode.Undecoded:
            case Opcode.Illegal:
                return $".word 0x{i.Raw:x8}";
            case Opcode.Lui:
            case Opcode.Auipc:
                return $"{name} {rd}, 0x{(uint)i.Imm >> 12:x}";
            case Opcode.Jal:
                return $"{name} {rd}, 0x{pc + (uint)i.Imm:x8}";
            case Opcode.Jalr:
                return $"{name} {rd}, {i.Imm}({rs1})";
            case >= Opcode.Beq and <= Opcode.Bgeu:
                return $"{name} {rs1}, {rs2}, 0x{pc + (uint)i.Imm:x8}";
            case >= Opcode.Lb and <= Opcode.Lhu:
                return $"{name} {rd}, {i.Imm}({rs1})";
            case >= Opcode.Sb and <= Opcode.Sw:
                return $"{name} {rs2}, {i.Imm}({rs1})";
            case >= Opcode.Addi and <= Opcode.Srai:
                return $"{name} {rd}, {rs1}, {i.Imm}";
            case >= Opcode.Add and <= Opcode.Remu:
                return $"{name} {rd}, {rs1}, {rs2}";
            case Opcode.LrW:
                return $"{name}{Ordering(i.Raw)} {rd}, ({rs1})";
            case >= Opcode.ScW and <= Opcode.AmomaxuW:
                return $"{name}{Ordering(i.Raw)} {rd}, {rs2}, ({rs1})";
            case Opcode.SfenceVma:
                return $"{name} {rs1}, {rs2}";
            case >= Opcode.Csrrw and <= Opcode.Csrrc:
                return $"{name} {rd}, 0x{i.Csr:x3}, {rs1}";
            case >= Opcode.Csrrwi and <= Opcode.Csrrci:
                return $"{name} {rd}, 0x{i.Csr:x3}, {i.Rs1}";
            default:
                return name;
        }
    }

    /// <summary>The .aq / .rl / .aqrl suffix of an atomic (bits 26 and 25).</summary>
    private static string Ordering(uint raw) => ((raw >> 25) & 3) switch
    {
        1 => ".rl",
        2 => ".aq",
        3 => ".aqrl",
        _ => "",
    };

    /// <summary>The assembler mnemonic of an opcode (AMOs and LR/SC with their .w suffix).</summary>
    public static string Mnemonic(Opcode op) => op switch
    {
        Opcode.LrW => "lr.w",
        Opcode.ScW => "sc.w",
        Opcode.FenceI => "fence.i",
        Opcode.SfenceVma => "sfence.vma",
        >= Opcode.AmoswapW and <= Opcode.AmomaxuW => "amo" + op.ToString()[3..^1].ToLowerInvariant() + ".w",
        _ => op.ToString().ToLowerInvariant(),
    };
}
