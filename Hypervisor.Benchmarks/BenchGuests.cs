using Hypervisor.Isa;
using Hypervisor.Loading;
using Hypervisor.Machine;

namespace Hypervisor.Benchmarks;

/// <summary>Small guest programs built in memory for the micro-benchmarks, and the repository's guests.</summary>
internal static class BenchGuests
{
    public static string RepoFile(string relative)
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Hypervisor.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        return Path.Combine(dir ?? throw new InvalidOperationException("repository root not found"), relative);
    }

    public static VirtualMachine Build(IReadOnlyList<uint> words, EngineKind engine) =>
        new("bench", ElfImage.Parse("bench", ElfWriter.Build(words)), new MachineConfig { Engine = engine, MemorySize = 1u << 20 });

    /// <summary>An endless loop of <paramref name="n"/> ALU instructions closed by a backward branch.</summary>
    public static IReadOnlyList<uint> AluLoop(int n)
    {
        var p = new ProgramBuilder();
        uint top = p.Here;
        for (int i = 0; i < n; i++)
        {
            p.Emit((i % 4) switch { 0 => Opcode.Add, 1 => Opcode.Xor, 2 => Opcode.Sub, _ => Opcode.Or }, 5 + (i % 6), 5 + ((i + 1) % 6), 5 + ((i + 3) % 6));
        }
        p.Emit(Opcode.Jal, 0, imm: (int)(top - p.Here));
        return p.Words;
    }

    /// <summary>An endless loop of loads and stores to a data word.</summary>
    public static IReadOnlyList<uint> MemoryLoop()
    {
        var p = new ProgramBuilder();
        p.Li(10, 0x8001_0000);
        uint top = p.Here;
        p.Emit(Opcode.Lw, 5, 10, imm: 0);
        p.Emit(Opcode.Addi, 5, 5, imm: 1);
        p.Emit(Opcode.Sw, rs1: 10, rs2: 5, imm: 0);
        p.Emit(Opcode.Lbu, 6, 10, imm: 5);
        p.Emit(Opcode.Add, 6, 6, 5);
        p.Emit(Opcode.Sh, rs1: 10, rs2: 6, imm: 6);
        p.Emit(Opcode.Jal, 0, imm: (int)(top - p.Here));
        return p.Words;
    }

    /// <summary>A loop calling a function on the same page through JAL/JALR: the translator keeps the call and the return inside one region (return prediction).</summary>
    public static IReadOnlyList<uint> CallReturnLoop()
    {
        var p = new ProgramBuilder();
        uint top = p.Here;
        p.Emit(Opcode.Addi, 5, 5, imm: 1);
        p.Emit(Opcode.Jal, 1, imm: 12);                  // call f
        p.Emit(Opcode.Addi, 6, 6, imm: 1);
        p.Emit(Opcode.Jal, 0, imm: (int)(top - p.Here)); // loop
        p.Emit(Opcode.Xor, 7, 7, 5);                     // f:
        p.Emit(Opcode.Jalr, 0, 1, imm: 0);               // ret
        return p.Words;
    }

    /// <summary>
    /// The same loop with the function on the next page, so every call and every return is a
    /// transfer between translated regions (a chained static exit, then the jump cache).
    /// </summary>
    public static IReadOnlyList<uint> CallFarLoop()
    {
        const int FarAway = 1024; // words: f starts on the next page
        var p = new ProgramBuilder();
        uint top = p.Here;
        p.Emit(Opcode.Addi, 5, 5, imm: 1);
        p.Emit(Opcode.Jal, 1, imm: (FarAway - 1) * 4);  // call f
        p.Emit(Opcode.Addi, 6, 6, imm: 1);
        p.Emit(Opcode.Jal, 0, imm: (int)(top - p.Here)); // loop
        while (p.Words.Count < FarAway)
        {
            p.Emit(Opcode.Nop);
        }
        p.Emit(Opcode.Xor, 7, 7, 5);                     // f:
        p.Emit(Opcode.Jalr, 0, 1, imm: 0);               // ret
        return p.Words;
    }
}
