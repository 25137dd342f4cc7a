using System.Buffers.Binary;
using System.Text;

namespace Hypervisor.Tests.Loading;

/// <summary>Writes minimal little-endian ELF32 files (header, program headers, optional symbol table) for loader tests.</summary>
internal sealed class ElfBuilder
{
    public const ushort MachineRiscV = 243;
    public const ushort MachineI386 = 3;
    public const ushort MachineX86_64 = 62;
    public const uint PtLoad = 1, PtNote = 4;
    public const ushort EtExec = 2, EtDyn = 3, EtRel = 1;

    private const int EhSize = 52, PhSize = 32, ShSize = 40, SymSize = 16;

    private readonly List<(uint Type, uint Address, byte[] Data, uint MemorySize, uint Flags)> _segments = [];
    private readonly List<(string Name, uint Value)> _symbols = [];

    public ushort Machine { get; set; } = MachineRiscV;

    public ushort Type { get; set; } = EtExec;

    public uint Entry { get; set; } = 0x8000_0000;

    /// <summary>Adds a program header with its file contents; <paramref name="memorySize"/> defaults to the data length.</summary>
    public ElfBuilder AddSegment(uint type, uint address, byte[] data, uint? memorySize = null, uint flags = 7)
    {
        _segments.Add((type, address, data, memorySize ?? (uint)data.Length, flags));
        return this;
    }

    public ElfBuilder AddLoad(uint address, byte[] data, uint? memorySize = null) => AddSegment(PtLoad, address, data, memorySize);

    /// <summary>Adds a global object symbol (defined in section 1, the first segment's section).</summary>
    public ElfBuilder AddSymbol(string name, uint value)
    {
        _symbols.Add((name, value));
        return this;
    }

    public byte[] Build()
    {
        using var body = new MemoryStream();
        int phOffset = EhSize;
        int dataOffset = Align(phOffset + PhSize * _segments.Count, 16);
        var segmentOffsets = new List<int>();
        body.SetLength(dataOffset);
        body.Position = dataOffset;
        foreach (var seg in _segments)
        {
            segmentOffsets.Add((int)body.Position);
            body.Write(seg.Data);
            body.Position = Align((int)body.Position, 4);
            body.SetLength(body.Position);
        }

        int shOffset = 0, shCount = 0, shStrIndex = 0;
        if (_symbols.Count > 0)
        {
            // Sections: [0] null, [1] .text (the first segment), [2] .symtab, [3] .strtab, [4] .shstrtab.
            var strtab = new MemoryStream();
            strtab.WriteByte(0);
            var symtab = new MemoryStream();
            symtab.Write(new byte[SymSize]); // the null symbol
            foreach ((string name, uint value) in _symbols)
            {
                uint nameOffset = (uint)strtab.Position;
                strtab.Write(Encoding.ASCII.GetBytes(name));
                strtab.WriteByte(0);
                byte[] sym = new byte[SymSize];
                BinaryPrimitives.WriteUInt32LittleEndian(sym.AsSpan(0), nameOffset);
                BinaryPrimitives.WriteUInt32LittleEndian(sym.AsSpan(4), value);
                BinaryPrimitives.WriteUInt32LittleEndian(sym.AsSpan(8), 4);
                sym[12] = (1 << 4) | 1; // STB_GLOBAL, STT_OBJECT
                sym[13] = 0;
                BinaryPrimitives.WriteUInt16LittleEndian(sym.AsSpan(14), 1);
                symtab.Write(sym);
            }
            byte[] shstr = Encoding.ASCII.GetBytes("\0.text\0.symtab\0.strtab\0.shstrtab\0");
            int symtabOffset = Append(body, symtab.ToArray());
            int strtabOffset = Append(body, strtab.ToArray());
            int shstrOffset = Append(body, shstr);
            shOffset = Append(body, []);
            shCount = 5;
            shStrIndex = 4;
            uint textAddress = _segments.Count > 0 ? _segments[0].Address : 0;
            uint textSize = _segments.Count > 0 ? (uint)_segments[0].Data.Length : 0;
            int firstOffset = segmentOffsets.Count > 0 ? segmentOffsets[0] : 0;
            body.Write(SectionHeader(0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            body.Write(SectionHeader(1, 1, 6, textAddress, (uint)firstOffset, textSize, 0, 0, 4, 0));
            body.Write(SectionHeader(7, 2, 0, 0, (uint)symtabOffset, (uint)symtab.Length, 3, 1, 4, SymSize));
            body.Write(SectionHeader(15, 3, 0, 0, (uint)strtabOffset, (uint)strtab.Length, 0, 0, 1, 0));
            body.Write(SectionHeader(23, 3, 0, 0, (uint)shstrOffset, (uint)shstr.Length, 0, 0, 1, 0));
        }

        byte[] file = body.ToArray();
        Span<byte> h = file;
        h[0] = 0x7F;
        h[1] = (byte)'E';
        h[2] = (byte)'L';
        h[3] = (byte)'F';
        h[4] = 1; // ELFCLASS32
        h[5] = 1; // ELFDATA2LSB
        h[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], Machine);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], Entry);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], _segments.Count > 0 ? (uint)phOffset : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[32..], (uint)shOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(h[36..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(h[40..], EhSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[42..], PhSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[44..], (ushort)_segments.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(h[46..], ShSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[48..], (ushort)shCount);
        BinaryPrimitives.WriteUInt16LittleEndian(h[50..], (ushort)shStrIndex);
        for (int i = 0; i < _segments.Count; i++)
        {
            var seg = _segments[i];
            Span<byte> p = h.Slice(phOffset + i * PhSize, PhSize);
            BinaryPrimitives.WriteUInt32LittleEndian(p[0..], seg.Type);
            BinaryPrimitives.WriteUInt32LittleEndian(p[4..], (uint)segmentOffsets[i]);
            BinaryPrimitives.WriteUInt32LittleEndian(p[8..], seg.Address);
            BinaryPrimitives.WriteUInt32LittleEndian(p[12..], seg.Address);
            BinaryPrimitives.WriteUInt32LittleEndian(p[16..], (uint)seg.Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(p[20..], seg.MemorySize);
            BinaryPrimitives.WriteUInt32LittleEndian(p[24..], seg.Flags);
            BinaryPrimitives.WriteUInt32LittleEndian(p[28..], 4);
        }
        return file;
    }

    private static int Align(int value, int alignment) => (value + alignment - 1) & ~(alignment - 1);

    private static int Append(MemoryStream body, byte[] data)
    {
        body.Position = Align((int)body.Length, 4);
        body.SetLength(body.Position);
        int offset = (int)body.Position;
        body.Write(data);
        return offset;
    }

    private static byte[] SectionHeader(uint name, uint type, uint flags, uint address, uint offset, uint size,
        uint link, uint info, uint align, uint entrySize)
    {
        byte[] s = new byte[ShSize];
        uint[] fields = [name, type, flags, address, offset, size, link, info, align, entrySize];
        for (int i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(4 * i), fields[i]);
        }
        return s;
    }

    /// <summary>Little-endian bytes of instruction words.</summary>
    public static byte[] Code(params uint[] words)
    {
        byte[] bytes = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4 * i), words[i]);
        }
        return bytes;
    }
}
