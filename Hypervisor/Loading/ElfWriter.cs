using System.Buffers.Binary;
using System.Text;

namespace Hypervisor.Loading;

/// <summary>Writes a minimal statically linked RV32 executable: one PT_LOAD segment and an optional symbol table.</summary>
/// <remarks>The fuzzer writes shrunk programs with it so that they run with <c>hv run</c> (and on QEMU).</remarks>
public static class ElfWriter
{
    private const int EhSize = 52, PhSize = 32, ShSize = 40, SymSize = 16;

    /// <summary>Builds the image: <paramref name="content"/> is loaded at <paramref name="loadAddress"/>, which is also the entry.</summary>
    public static byte[] Build(ReadOnlySpan<byte> content, uint loadAddress = 0x8000_0000, uint memorySize = 0,
        IReadOnlyList<(string Name, uint Address)>? symbols = null)
    {
        symbols ??= [];
        memorySize = Math.Max(memorySize, (uint)content.Length);
        // Layout: ELF header, program header, content (at 0x1000 so the segment is page-aligned),
        // then .symtab, .strtab, .shstrtab and the section headers.
        const int contentOffset = 0x1000;
        var strtab = new MemoryStream();
        strtab.WriteByte(0);
        var nameOffsets = new List<int>();
        foreach ((string name, _) in symbols)
        {
            nameOffsets.Add((int)strtab.Length);
            strtab.Write(Encoding.ASCII.GetBytes(name));
            strtab.WriteByte(0);
        }
        byte[] shstr = Encoding.ASCII.GetBytes("\0.text\0.symtab\0.strtab\0.shstrtab\0");
        int symtabOffset = Align(contentOffset + content.Length, 4);
        int symtabSize = SymSize * (symbols.Count + 1);
        int strtabOffset = symtabOffset + symtabSize;
        int shstrOffset = strtabOffset + (int)strtab.Length;
        int shOffset = Align(shstrOffset + shstr.Length, 4);
        const int sectionCount = 5; // null, .text, .symtab, .strtab, .shstrtab
        byte[] file = new byte[shOffset + ShSize * sectionCount];
        Span<byte> f = file;

        // ELF header
        f[0] = 0x7F; f[1] = (byte)'E'; f[2] = (byte)'L'; f[3] = (byte)'F';
        f[4] = 1; f[5] = 1; f[6] = 1; // 32-bit, little-endian, version 1
        W16(f, 16, 2);           // ET_EXEC
        W16(f, 18, 243);         // EM_RISCV
        W32(f, 20, 1);
        W32(f, 24, loadAddress); // entry
        W32(f, 28, EhSize);      // phoff
        W32(f, 32, (uint)shOffset);
        W32(f, 36, 0);           // flags: no C, soft float
        W16(f, 40, EhSize);
        W16(f, 42, PhSize);
        W16(f, 44, 1);
        W16(f, 46, ShSize);
        W16(f, 48, sectionCount);
        W16(f, 50, 4);           // .shstrtab index

        // Program header: PT_LOAD RWX
        int ph = EhSize;
        W32(f, ph + 0, 1);
        W32(f, ph + 4, contentOffset);
        W32(f, ph + 8, loadAddress);
        W32(f, ph + 12, loadAddress);
        W32(f, ph + 16, (uint)content.Length);
        W32(f, ph + 20, memorySize);
        W32(f, ph + 24, 7);
        W32(f, ph + 28, 0x1000);

        content.CopyTo(f[contentOffset..]);

        for (int i = 0; i < symbols.Count; i++)
        {
            int s = symtabOffset + SymSize * (i + 1);
            W32(f, s + 0, (uint)nameOffsets[i]);
            W32(f, s + 4, symbols[i].Address);
            W32(f, s + 8, 4);
            f[s + 12] = 0x11; // GLOBAL OBJECT
            W16(f, s + 14, 1); // in .text
        }
        strtab.ToArray().CopyTo(f[strtabOffset..]);
        shstr.CopyTo(f[shstrOffset..]);

        // Section headers (index 0 is the null section).
        WriteSection(f, shOffset + ShSize * 1, 1, 1, 7, loadAddress, contentOffset, content.Length, 0, 0, 4, 0);       // .text PROGBITS AWX
        WriteSection(f, shOffset + ShSize * 2, 7, 2, 0, 0, symtabOffset, symtabSize, 3, 1, 4, SymSize);              // .symtab SYMTAB link .strtab
        WriteSection(f, shOffset + ShSize * 3, 15, 3, 0, 0, strtabOffset, (int)strtab.Length, 0, 0, 1, 0);           // .strtab STRTAB
        WriteSection(f, shOffset + ShSize * 4, 23, 3, 0, 0, shstrOffset, shstr.Length, 0, 0, 1, 0);                  // .shstrtab STRTAB
        return file;
    }

    /// <summary>Builds an image from instruction words.</summary>
    public static byte[] Build(IReadOnlyList<uint> words, uint loadAddress = 0x8000_0000, uint memorySize = 0,
        IReadOnlyList<(string Name, uint Address)>? symbols = null)
    {
        byte[] content = new byte[words.Count * 4];
        for (int i = 0; i < words.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(i * 4), words[i]);
        }
        return Build(content, loadAddress, memorySize, symbols);
    }

    private static void WriteSection(Span<byte> f, int at, uint name, uint type, uint flags, uint addr, int offset, int size,
        uint link, uint info, uint align, uint entsize)
    {
        W32(f, at + 0, name);
        W32(f, at + 4, type);
        W32(f, at + 8, flags);
        W32(f, at + 12, addr);
        W32(f, at + 16, (uint)offset);
        W32(f, at + 20, (uint)size);
        W32(f, at + 24, link);
        W32(f, at + 28, info);
        W32(f, at + 32, align);
        W32(f, at + 36, entsize);
    }

    private static int Align(int value, int alignment) => (value + alignment - 1) & ~(alignment - 1);

    private static void W16(Span<byte> f, int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(f[at..], v);

    private static void W32(Span<byte> f, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(f[at..], v);
}
