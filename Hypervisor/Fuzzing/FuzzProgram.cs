using System.Buffers.Binary;
using StringBuilder = System.Text.StringBuilder;
using Hypervisor.Isa;
using Hypervisor.Loading;

namespace Hypervisor.Fuzzing;

/// <summary>
/// The memory layout every generated program shares: code from the entry point, a trap handler at
/// a fixed address (so that deleting instructions while shrinking never moves it), then one data page.
/// </summary>
/// <remarks>
/// <code>
/// 0x8000_0000  program: prologue, body, epilogue (power-off), at most 0x3000 bytes
/// 0x8000_3000  trap handler: mepc += 4; mret (system programs: escapes to x30, see ProgramGenerator.System.cs)
/// 0x8000_3800  S-mode trap handler of system programs: sepc += 4; sret
/// 0x8000_4000  data page (4 KiB of random bytes); one register holds 0x8000_4800 throughout
/// 0x8000_8000  Sv32 root table, 0x8000_9000 its level-0 table, 0x8000_A000 a scratch page (built and
///              touched by system programs only; not part of the image)
/// </code>
/// Virtual windows of system programs: 0x8000_0000 identity superpage over RAM, 0x4000_0000 its alias,
/// 0x0040_0000 eight 4 KiB pages through the level-0 table.
/// </remarks>
public static class FuzzLayout
{
    public const uint CodeBase = 0x8000_0000;
    public const uint HandlerBase = 0x8000_3000;
    public const uint SHandlerBase = 0x8000_3800;
    public const uint DataBase = 0x8000_4000;
    public const int DataSize = 0x1000;
    public const uint PageTableRoot = 0x8000_8000;
    public const uint PageTableL0 = 0x8000_9000;
    public const uint ScratchPage = 0x8000_A000;
    public const uint AliasBase = 0x4000_0000;
    public const uint MappedWindow = 0x0040_0000;

    /// <summary>The value of the data-base register: the middle of the data page, so 12-bit offsets reach all of it.</summary>
    public const uint DataPointer = DataBase + 0x800;

    public const uint ImageSize = DataBase + DataSize - CodeBase;

    /// <summary>Most words the program region holds.</summary>
    public const int MaxCodeWords = (int)(HandlerBase - CodeBase) / 4;

    /// <summary>RAM the lockstep VMs get: the smallest the machine allows.</summary>
    public const uint MemorySize = 64u << 10;

    public static readonly uint Nop = Encoder.Encode(Opcode.Nop);
}

/// <summary>One generated (or shrunk) program: its code, its trap handler and its initial data page.</summary>
/// <param name="Seed">The seed it was generated from (also seeds the lockstep slice sizes).</param>
/// <param name="Code">Instruction words from <see cref="FuzzLayout.CodeBase"/>.</param>
/// <param name="Handler">Instruction words from <see cref="FuzzLayout.HandlerBase"/>.</param>
/// <param name="Data">Initial contents of the data page.</param>
/// <param name="DataRegister">The register that points at <see cref="FuzzLayout.DataPointer"/>.</param>
public sealed record FuzzProgram(int Seed, uint[] Code, uint[] Handler, byte[] Data, int DataRegister)
{
    /// <summary>Instructions in the code region that are not NOPs (what "a handful of instructions" counts).</summary>
    public int LiveInstructions => Code.Count(w => w != FuzzLayout.Nop);

    /// <summary>The RAM image from <see cref="FuzzLayout.CodeBase"/>: code, handler and data page.</summary>
    public byte[] ToImage()
    {
        if (Code.Length > FuzzLayout.MaxCodeWords)
        {
            throw new InvalidOperationException($"program of {Code.Length} words overlaps the trap handler");
        }
        byte[] image = new byte[FuzzLayout.ImageSize];
        for (int i = 0; i < Code.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(i * 4), Code[i]);
        }
        int handler = (int)(FuzzLayout.HandlerBase - FuzzLayout.CodeBase);
        for (int i = 0; i < Handler.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(handler + i * 4), Handler[i]);
        }
        Data.CopyTo(image.AsSpan((int)(FuzzLayout.DataBase - FuzzLayout.CodeBase)));
        return image;
    }

    /// <summary>A runnable RV32 ELF of the program (entry at the code base), for <c>hv run</c> and QEMU.</summary>
    public byte[] ToElf() => ElfWriter.Build(ToImage(), FuzzLayout.CodeBase, symbols:
    [
        ("_start", FuzzLayout.CodeBase),
        ("trap_handler", FuzzLayout.HandlerBase),
        ("fuzz_data", FuzzLayout.DataBase),
    ]);

    public ElfImage ToElfImage(string name) => ElfImage.Parse(name, ToElf());

    /// <summary>Rebuilds a program from a fuzzer ELF (one written by <see cref="ToElf"/>), for replays.</summary>
    public static FuzzProgram FromElf(ElfImage image, int seed)
    {
        if (image.Entry != FuzzLayout.CodeBase)
        {
            throw new ElfLoadException($"{image.Path}: entry 0x{image.Entry:x8} is not a fuzzer program's (0x{FuzzLayout.CodeBase:x8})");
        }
        byte[] ram = new byte[FuzzLayout.ImageSize];
        foreach (LoadSegment seg in image.Segments)
        {
            long at = (long)seg.PhysicalAddress - FuzzLayout.CodeBase;
            if (at < 0 || at + seg.Data.Length > ram.Length)
            {
                throw new ElfLoadException($"{image.Path}: segment at 0x{seg.PhysicalAddress:x8} lies outside a fuzzer program's layout");
            }
            seg.Data.CopyTo(ram.AsSpan((int)at));
        }
        uint[] code = Words(ram, 0, FuzzLayout.MaxCodeWords);
        int length = code.Length;
        while (length > 0 && code[length - 1] == 0)
        {
            length--;
        }
        uint[] handler = Words(ram, (int)(FuzzLayout.HandlerBase - FuzzLayout.CodeBase), (int)(FuzzLayout.DataBase - FuzzLayout.HandlerBase) / 4);
        int handlerLength = handler.Length;
        while (handlerLength > 0 && handler[handlerLength - 1] == 0)
        {
            handlerLength--;
        }
        byte[] data = ram.AsSpan((int)(FuzzLayout.DataBase - FuzzLayout.CodeBase), FuzzLayout.DataSize).ToArray();
        return new FuzzProgram(seed, code[..length], handler[..handlerLength], data, DataRegister: -1);
    }

    private static uint[] Words(byte[] bytes, int offset, int count)
    {
        uint[] words = new uint[count];
        for (int i = 0; i < count; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + i * 4));
        }
        return words;
    }

    /// <summary>The program as assembly: code, then the handler; runs of NOPs are folded into one line.</summary>
    public string Disassemble()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# fuzz program seed {Seed}: {Code.Length} words, {LiveInstructions} live" +
                      (DataRegister >= 0 ? $"; {Disassembler.RegisterName(DataRegister)} = data page + 0x800" : ""));
        AppendWords(sb, Code, FuzzLayout.CodeBase);
        if (Handler.Any(w => w != FuzzLayout.Nop))
        {
            sb.AppendLine($"trap_handler:");
            AppendWords(sb, Handler, FuzzLayout.HandlerBase);
        }
        return sb.ToString();
    }

    private static void AppendWords(StringBuilder sb, uint[] words, uint baseAddress)
    {
        for (int i = 0; i < words.Length; i++)
        {
            uint pc = baseAddress + (uint)i * 4;
            if (words[i] == FuzzLayout.Nop)
            {
                int run = 1;
                while (i + run < words.Length && words[i + run] == FuzzLayout.Nop)
                {
                    run++;
                }
                if (run > 1)
                {
                    sb.AppendLine($"  {pc:x8}:  ({run} x nop)");
                    i += run - 1;
                    continue;
                }
            }
            sb.AppendLine($"  {pc:x8}:  {words[i]:x8}  {Disassembler.Format(Decoder.Decode(words[i]), pc)}");
        }
    }
}
