using ELFSharp.ELF;
using ELFSharp.ELF.Sections;
using ELFSharp.ELF.Segments;

namespace Hypervisor.Loading;

/// <summary>One PT_LOAD segment of a guest image.</summary>
/// <remarks><see cref="Executable"/> is the segment's PF_X flag: it holds code (what the binary-patching profiler patches).</remarks>
public sealed record LoadSegment(uint PhysicalAddress, uint MemorySize, byte[] Data, bool Executable = true);

/// <summary>A function or object symbol from the image's symbol table.</summary>
public sealed record ElfSymbol(string Name, uint Address, uint Size, bool IsFunction);

/// <summary>A parsed RV32 guest ELF: its loadable segments, entry point and symbols (read with ELFSharp).</summary>
public sealed class ElfImage
{
    private const ushort MachineRiscV = 243;

    /// <summary>
    /// Checks that the program and section header tables, and every segment and section they
    /// describe, lie inside the file, before ELFSharp sees it: a corrupt size must give a clear
    /// error, not a huge allocation.
    /// </summary>
    private static void CheckHeaderBounds(string name, byte[] bytes)
    {
        if (bytes.Length < 52)
        {
            throw new ElfLoadException($"{name}: truncated ELF header");
        }
        uint phoff = U32(bytes, 28), shoff = U32(bytes, 32);
        ushort phentsize = U16(bytes, 42), phnum = U16(bytes, 44), shentsize = U16(bytes, 46), shnum = U16(bytes, 48);
        ulong length = (ulong)bytes.Length;
        if (phnum > 0 && (phentsize < 32 || (ulong)phoff + (ulong)phentsize * phnum > length))
        {
            throw new ElfLoadException($"{name}: malformed ELF (program header table lies outside the file)");
        }
        for (int i = 0; i < phnum; i++)
        {
            int ph = (int)phoff + i * phentsize;
            uint offset = U32(bytes, ph + 4), fileSize = U32(bytes, ph + 16);
            if ((ulong)offset + fileSize > length)
            {
                throw new ElfLoadException($"{name}: malformed ELF (segment {i} lies outside the file)");
            }
        }
        if (shnum > 0 && (shentsize < 40 || (ulong)shoff + (ulong)shentsize * shnum > length))
        {
            throw new ElfLoadException($"{name}: malformed ELF (section header table lies outside the file)");
        }
        for (int i = 0; i < shnum; i++)
        {
            int sh = (int)shoff + i * shentsize;
            uint type = U32(bytes, sh + 4), offset = U32(bytes, sh + 16), size = U32(bytes, sh + 20);
            const uint NoBits = 8;
            if (type != NoBits && type != 0 && (ulong)offset + size > length)
            {
                throw new ElfLoadException($"{name}: malformed ELF (section {i} lies outside the file)");
            }
        }
    }

    private static uint U32(byte[] b, int at) => at + 4 <= b.Length ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)) : 0;

    private static ushort U16(byte[] b, int at) => at + 2 <= b.Length ? System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at)) : (ushort)0;

    private ElfImage(string path, uint entry, IReadOnlyList<LoadSegment> segments, IReadOnlyList<ElfSymbol> symbols,
        IReadOnlyDictionary<string, byte[]> debugSections)
    {
        Path = path;
        Entry = entry;
        Segments = segments;
        Symbols = symbols;
        DebugSections = debugSections;
    }

    public string Path { get; }

    public uint Entry { get; }

    public IReadOnlyList<LoadSegment> Segments { get; }

    public IReadOnlyList<ElfSymbol> Symbols { get; }

    /// <summary>
    /// The raw contents of the image's DWARF sections by name (<c>.debug_line</c>,
    /// <c>.debug_line_str</c>, <c>.debug_str</c>, ...); empty for an image built without debug info.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]> DebugSections { get; }

    /// <summary>The contents of a debug section, or null when the image has none of that name.</summary>
    public byte[]? DebugSection(string name) => DebugSections.TryGetValue(name, out byte[]? bytes) ? bytes : null;

    /// <summary>Address of a symbol, if the image has it (e.g. HTIF's <c>tohost</c>).</summary>
    public uint? FindSymbol(string name)
    {
        foreach (ElfSymbol s in Symbols)
        {
            if (s.Name == name)
            {
                return s.Address;
            }
        }
        return null;
    }

    /// <summary>Reads and validates an image; throws <see cref="ElfLoadException"/> with a clear message otherwise.</summary>
    public static ElfImage Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ElfLoadException(Directory.Exists(path) ? $"{path}: a directory, not an ELF file" : $"{path}: no such file");
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new ElfLoadException($"{path}: cannot read: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ElfLoadException($"{path}: cannot read: {e.Message}");
        }
        return Parse(path, bytes);
    }

    /// <summary>Parses an image from bytes; <paramref name="name"/> is used in error messages.</summary>
    public static ElfImage Parse(string name, byte[] bytes)
    {
        if (bytes.Length < 20 || bytes[0] != 0x7F || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
        {
            throw new ElfLoadException($"{name}: not an ELF file");
        }
        if (bytes[4] != 1)
        {
            throw new ElfLoadException($"{name}: a {(bytes[4] == 2 ? "64" : "unknown")}-bit ELF; the guest machine is RV32 and needs a 32-bit ELF");
        }
        if (bytes[5] != 1)
        {
            throw new ElfLoadException($"{name}: a big-endian ELF; RISC-V guests are little-endian");
        }
        ushort machine = (ushort)(bytes[18] | (bytes[19] << 8));
        if (machine != MachineRiscV)
        {
            throw new ElfLoadException($"{name}: an ELF for machine {machine}, not RISC-V ({MachineRiscV})");
        }

        CheckHeaderBounds(name, bytes);

        ELF<uint> elf;
        try
        {
            if (!ELFReader.TryLoad(new MemoryStream(bytes), true, out IELF? parsed) || parsed is not ELF<uint> e32)
            {
                throw new ElfLoadException($"{name}: malformed ELF (headers could not be read)");
            }
            elf = e32;
        }
        catch (ElfLoadException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // ELFSharp reports malformed files with whatever exception its parser hits.
            throw new ElfLoadException($"{name}: malformed ELF ({e.Message})");
        }

        using (elf)
        {
            if (elf.Type != FileType.Executable)
            {
                throw new ElfLoadException($"{name}: an ELF of type {elf.Type}; a guest must be a statically linked executable");
            }
            var segments = new List<LoadSegment>();
            foreach (Segment<uint> seg in elf.Segments)
            {
                if (seg.Type != SegmentType.Load || seg.Size == 0)
                {
                    continue;
                }
                if (seg.FileSize > seg.Size)
                {
                    throw new ElfLoadException($"{name}: segment at 0x{seg.PhysicalAddress:x8} has a file size larger than its memory size");
                }
                byte[] data;
                try
                {
                    data = seg.GetFileContents();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new ElfLoadException($"{name}: segment at 0x{seg.PhysicalAddress:x8} lies outside the file ({e.Message})");
                }
                segments.Add(new LoadSegment(seg.PhysicalAddress, seg.Size, data, (seg.Flags & SegmentFlags.Execute) != 0));
            }
            if (segments.Count == 0)
            {
                throw new ElfLoadException($"{name}: no loadable (PT_LOAD) segments");
            }
            var symbols = new List<ElfSymbol>();
            var debug = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (ISection section in elf.Sections)
            {
                if (section is Section<uint> { Type: SectionType.ProgBits } data && data.Name.StartsWith(".debug_", StringComparison.Ordinal))
                {
                    try
                    {
                        debug[data.Name] = data.GetContents();
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // Debug info is optional: a guest whose DWARF cannot be read still runs.
                    }
                }
                if (section is ISymbolTable table)
                {
                    foreach (ISymbolEntry entry in table.Entries)
                    {
                        if (entry is SymbolEntry<uint> s && !string.IsNullOrEmpty(s.Name) && s.PointedSectionIndex != 0)
                        {
                            symbols.Add(new ElfSymbol(s.Name, s.Value, s.Size, s.Type == SymbolType.Function));
                        }
                    }
                }
            }
            return new ElfImage(name, elf.EntryPoint, segments, symbols, debug);
        }
    }
}
