using Hypervisor.Cpu;
using Hypervisor.Isa;
using Hypervisor.Loading;

namespace Hypervisor.Cli.Bench;

/// <summary>Guests the benchmarks write at run time (hand-assembled with the project's own encoder).</summary>
public static class BenchGuests
{
    private const int T0 = 5, T1 = 6, S0 = 8, S1 = 9, A0 = 10;

    /// <summary>
    /// A mostly idle guest: arms the CLINT timer <paramref name="periodTicks"/> ahead, sleeps in WFI,
    /// and on each timer interrupt re-arms from the present (mtime + period) and sleeps again.
    /// </summary>
    public static IReadOnlyList<uint> IdleTicker(uint periodTicks)
    {
        var p = new ProgramBuilder();
        int fixup = p.Words.Count;
        p.Li(T0, 0); // t0 = handler (patched)
        p.Emit(Opcode.Csrrw, 0, T0, imm: CsrAddress.Mtvec);
        p.Li(A0, periodTicks);
        p.Li(S0, 0x0200_BFF8); // mtime
        p.Li(S1, 0x0200_4000); // mtimecmp
        p.Emit(Opcode.Lw, T1, S0, imm: 0);
        p.Emit(Opcode.Add, T1, T1, A0);
        p.Emit(Opcode.Sw, rs1: S1, rs2: 0, imm: 4);
        p.Emit(Opcode.Sw, rs1: S1, rs2: T1, imm: 0);
        p.Li(T0, InterruptBits.Mtip);
        p.Emit(Opcode.Csrrw, 0, T0, imm: CsrAddress.Mie);
        p.Emit(Opcode.Csrrsi, 0, 8, imm: CsrAddress.Mstatus);
        uint loop = p.Here;
        p.Emit(Opcode.Wfi);
        p.Emit(Opcode.Jal, 0, imm: (int)(loop - p.Here));
        uint handler = p.Here;
        p.Emit(Opcode.Lw, T1, S0, imm: 0);
        p.Emit(Opcode.Add, T1, T1, A0);
        p.Emit(Opcode.Sw, rs1: S1, rs2: T1, imm: 0);
        p.Emit(Opcode.Mret);
        uint[] words = [.. p.Words];
        (int hi, int lo) = Encoder.SplitConstant(handler);
        words[fixup] = Encoder.Encode(Opcode.Lui, T0, imm: hi);
        words[fixup + 1] = Encoder.Encode(Opcode.Addi, T0, T0, imm: lo);
        return words;
    }

    /// <summary>
    /// A CPU-bound guest that never ends: it walks a 16 KiB buffer over and over, loading, mixing
    /// (add, xor, multiply) and storing each word — loads, stores, ALU, M and branches, no I/O.
    /// </summary>
    public static IReadOnlyList<uint> CpuLoop()
    {
        const int T2 = 7, S2 = 18;
        var p = new ProgramBuilder();
        p.Li(S0, 0x8001_0000);                 // buffer
        p.Li(S1, 4096);                        // words
        uint outer = p.Here;
        p.Emit(Opcode.Addi, T0, S0, imm: 0);
        p.Emit(Opcode.Addi, T1, 0, imm: 0);
        uint inner = p.Here;
        p.Emit(Opcode.Lw, T2, T0, imm: 0);
        p.Emit(Opcode.Add, T2, T2, T1);
        p.Emit(Opcode.Xori, T2, T2, imm: 0x5A);
        p.Emit(Opcode.Mul, S2, T2, T1);
        p.Emit(Opcode.Add, T2, T2, S2);
        p.Emit(Opcode.Sw, rs1: T0, rs2: T2, imm: 0);
        p.Emit(Opcode.Addi, T0, T0, imm: 4);
        p.Emit(Opcode.Addi, T1, T1, imm: 1);
        p.Emit(Opcode.Bne, rs1: T1, rs2: S1, imm: (int)(inner - p.Here));
        p.Emit(Opcode.Jal, 0, imm: (int)(outer - p.Here));
        return p.Words;
    }

    public static string Write(string dir, string name, IReadOnlyList<uint> words)
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name + ".elf");
        File.WriteAllBytes(path, ElfWriter.Build(words));
        return path;
    }
}
