namespace Hypervisor.Isa;

/// <summary>Builds a list of instruction words, with the few pseudo-instructions generated programs need.</summary>
public sealed class ProgramBuilder
{
    private readonly List<uint> _words = [];

    public ProgramBuilder(uint baseAddress = 0x8000_0000) => BaseAddress = baseAddress;

    public uint BaseAddress { get; }

    public IReadOnlyList<uint> Words => _words;

    /// <summary>Address of the next instruction.</summary>
    public uint Here => BaseAddress + (uint)(_words.Count * 4);

    public ProgramBuilder Emit(Opcode op, int rd = 0, int rs1 = 0, int rs2 = 0, int imm = 0)
    {
        _words.Add(Encoder.Encode(op, rd, rs1, rs2, imm));
        return this;
    }

    public ProgramBuilder Word(uint word)
    {
        _words.Add(word);
        return this;
    }

    /// <summary>li rd, value (LUI + ADDI, always two instructions so layouts stay predictable).</summary>
    public ProgramBuilder Li(int rd, uint value)
    {
        (int hi, int lo) = Encoder.SplitConstant(value);
        Emit(Opcode.Lui, rd, imm: hi);
        return Emit(Opcode.Addi, rd, rd, imm: lo);
    }

    /// <summary>Stores <paramref name="value"/> to <paramref name="address"/> using t0/t1.</summary>
    public ProgramBuilder StoreWord(uint address, uint value)
    {
        Li(5, address);
        Li(6, value);
        return Emit(Opcode.Sw, rs1: 5, rs2: 6);
    }

    /// <summary>Powers off through the SiFive test finisher: pass for 0, fail with the code otherwise.</summary>
    public ProgramBuilder PowerOff(int code) =>
        StoreWord(0x0010_0000, code == 0 ? 0x5555u : ((uint)code << 16) | 0x3333u);

    /// <summary>A jump to itself (an endless loop).</summary>
    public ProgramBuilder Spin() => Emit(Opcode.Jal, 0, imm: 0);
}
