namespace Hypervisor.Isa;

/// <summary>Every RV32IMA + Zicsr + Zifencei + privileged instruction the guest machine knows, by mnemonic.</summary>
/// <remarks>
/// Engines switch on this value, so related instructions are kept together and in the order a
/// jump table likes. <see cref="Undecoded"/> is zero so that a fresh pre-decode slot means
/// "decode me first".
/// </remarks>
public enum Opcode : byte
{
    Undecoded = 0,
    Illegal,

    /// <summary>
    /// No effect but pc += 4. The decoder never produces it; engines' pre-decoders use it for
    /// register-only instructions that write x0 (NOP and the HINT encodings), so they need no x0 check.
    /// </summary>
    Nop,

    // RV32I: upper immediates and jumps
    Lui, Auipc, Jal, Jalr,
    // branches
    Beq, Bne, Blt, Bge, Bltu, Bgeu,
    // loads
    Lb, Lh, Lw, Lbu, Lhu,
    // stores
    Sb, Sh, Sw,
    // register-immediate
    Addi, Slti, Sltiu, Xori, Ori, Andi, Slli, Srli, Srai,
    // register-register
    Add, Sub, Sll, Slt, Sltu, Xor, Srl, Sra, Or, And,
    // M
    Mul, Mulh, Mulhsu, Mulhu, Div, Divu, Rem, Remu,
    // A
    LrW, ScW, AmoswapW, AmoaddW, AmoxorW, AmoandW, AmoorW, AmominW, AmomaxW, AmominuW, AmomaxuW,
    // ordering
    Fence, FenceI,
    // system
    Ecall, Ebreak, Mret, Sret, Wfi, SfenceVma,
    // Zicsr
    Csrrw, Csrrs, Csrrc, Csrrwi, Csrrsi, Csrrci,
}

/// <summary>Classification helpers used by the translators to decide where a block ends.</summary>
public static class OpcodeInfo
{
    /// <summary>Jumps and branches: they end a basic block.</summary>
    public static bool IsControlFlow(Opcode op) => op is >= Opcode.Jal and <= Opcode.Bgeu;

    /// <summary>Instructions emulated by a monitor routine (callout) rather than inline code.</summary>
    public static bool IsSystem(Opcode op) => op is >= Opcode.FenceI and <= Opcode.Csrrci;

    /// <summary>Instructions whose only effects are writing rd and advancing pc (so with rd = x0 they are NOPs).</summary>
    public static bool IsRegisterOnly(Opcode op) =>
        op is Opcode.Lui or Opcode.Auipc or (>= Opcode.Addi and <= Opcode.Srai) or (>= Opcode.Add and <= Opcode.Remu);

    /// <summary>Loads, stores and atomics: the ones that may fault on a memory access.</summary>
    public static bool IsMemory(Opcode op) => op is (>= Opcode.Lb and <= Opcode.Sw) or (>= Opcode.LrW and <= Opcode.AmomaxuW);
}
