using Hypervisor.Isa;
using Hypervisor.Loading;

namespace Hypervisor.Tests.Support;

/// <summary>Small hand-assembled guests for behaviours the C guests do not show (faults, idling, fail codes).</summary>
public static class TinyGuests
{
    public static string Write(string name, IReadOnlyList<uint> words, IReadOnlyList<(string, uint)>? symbols = null)
    {
        string path = Path.Combine(Path.GetTempPath(), $"hv-{name}-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(path, ElfWriter.Build(words, symbols: symbols));
        return path;
    }

    public static IReadOnlyList<uint> FinisherFail(int code) => new ProgramBuilder().PowerOff(code).Spin().Words;

    public static IReadOnlyList<uint> JumpTo(uint address)
    {
        var p = new ProgramBuilder();
        p.Li(5, address);
        p.Emit(Opcode.Jalr, 0, 5, imm: 0);
        return p.Words;
    }

    /// <summary>Polls the UART until a byte arrives, echoes it, powers off with success.</summary>
    public static IReadOnlyList<uint> EchoOneByte()
    {
        var p = new ProgramBuilder();
        p.Li(10, 0x1000_0000);                       // a0 = UART
        uint loop = p.Here;
        p.Emit(Opcode.Lbu, 11, 10, imm: 5);           // a1 = LSR
        p.Emit(Opcode.Andi, 11, 11, imm: 1);          // data ready?
        p.Emit(Opcode.Beq, rs1: 11, rs2: 0, imm: (int)(loop - p.Here));
        p.Emit(Opcode.Lbu, 12, 10, imm: 0);           // a2 = RBR
        p.Emit(Opcode.Sb, rs1: 10, rs2: 12, imm: 0);  // THR = a2
        p.PowerOff(0);
        return p.Words;
    }

    /// <summary>WFI in a loop with no interrupt enabled and no timer: nothing can ever wake it.</summary>
    public static IReadOnlyList<uint> WfiForever()
    {
        var p = new ProgramBuilder();
        p.Emit(Opcode.Wfi);
        p.Emit(Opcode.Jal, 0, imm: -4);
        return p.Words;
    }
}
