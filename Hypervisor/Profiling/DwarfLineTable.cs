using System.Text;
using Hypervisor.Loading;

namespace Hypervisor.Profiling;

/// <summary>A source position: a file (as the line table names it, '/'-separated) and a 1-based line.</summary>
public sealed record SourceLine(string File, int Line)
{
    public override string ToString() => $"{System.IO.Path.GetFileName(File)}:{Line}";
}

/// <summary>A half-open range of code addresses [Start, End) that the line table attributes to one source line.</summary>
public readonly record struct LineRange(uint Start, uint End, SourceLine Source);

/// <summary>One row of the line-number matrix (DWARF 5, §6.2.2).</summary>
public readonly record struct LineRow(uint Address, string File, int Line, int Column, bool IsStatement, bool EndSequence);

/// <summary>A malformed or unsupported <c>.debug_line</c> section.</summary>
public sealed class DwarfException(string message) : Exception(message);

/// <summary>
/// The DWARF line-number table of an image (<c>.debug_line</c>): maps code addresses to source
/// files and lines. Reads line programs of DWARF versions 2 to 5 — the v5 header with its
/// directory and file entry formats (strings inline, in <c>.debug_line_str</c> or in
/// <c>.debug_str</c>), the v2–v4 header with its include directories and file names — and runs
/// their standard, extended and special opcodes.
/// </summary>
/// <remarks>
/// Written from the DWARF 5 specification, §6.2 ("Line Number Information"). Addresses are 32-bit
/// (RV32); 64-bit DWARF unit lengths are accepted. VLIW op indices are ignored
/// (<c>maximum_operations_per_instruction</c> is 1 on RISC-V).
/// </remarks>
public sealed class DwarfLineTable
{
    // Standard opcodes (§6.2.5.2).
    private const byte LnsCopy = 1, LnsAdvancePc = 2, LnsAdvanceLine = 3, LnsSetFile = 4, LnsSetColumn = 5,
        LnsNegateStmt = 6, LnsSetBasicBlock = 7, LnsConstAddPc = 8, LnsFixedAdvancePc = 9,
        LnsSetPrologueEnd = 10, LnsSetEpilogueBegin = 11, LnsSetIsa = 12;

    // Extended opcodes (§6.2.5.3).
    private const byte LneEndSequence = 1, LneSetAddress = 2, LneDefineFile = 3, LneSetDiscriminator = 4;

    // Line-number header entry content types (§6.2.4.1).
    private const ulong LnctPath = 1, LnctDirectoryIndex = 2;

    // Attribute forms that can appear in v5 directory and file entries (§7.5.6).
    private const ulong FormBlock2 = 0x03, FormBlock4 = 0x04, FormData2 = 0x05, FormData4 = 0x06, FormData8 = 0x07,
        FormString = 0x08, FormBlock = 0x09, FormBlock1 = 0x0a, FormData1 = 0x0b, FormSdata = 0x0d, FormStrp = 0x0e,
        FormUdata = 0x0f, FormData16 = 0x1e, FormLineStrp = 0x1f;

    /// <summary>Instruction size on RV32 without the C extension: a statement row with no range of its own still names this much code.</summary>
    private const uint InstructionSize = 4;

    private readonly List<LineRow> _rows;
    private readonly LineRange[] _ranges;

    private DwarfLineTable(List<LineRow> rows)
    {
        _rows = rows;
        _ranges = BuildRanges(rows);
        StatementRanges = BuildStatementRanges(rows);
    }

    /// <summary>Every row of every sequence, in section order.</summary>
    public IReadOnlyList<LineRow> Rows => _rows;

    /// <summary>Address ranges with their line, sorted by address, non-overlapping; line-0 ranges left out.</summary>
    public IReadOnlyList<LineRange> Ranges => _ranges;

    /// <summary>
    /// The code of every line for coverage: <see cref="Ranges"/> plus, for a statement row that shares
    /// its address with the next row (the compiler says a line's statement begins at an instruction
    /// another line goes on with), that one instruction. May overlap; line-0 rows left out.
    /// </summary>
    public IReadOnlyList<LineRange> StatementRanges { get; }

    /// <summary>The line table of an image, or null when it has no <c>.debug_line</c> (built without -g).</summary>
    public static DwarfLineTable? FromImage(ElfImage image)
    {
        byte[]? lines = image.DebugSection(".debug_line");
        return lines is null || lines.Length == 0 ? null : Parse(lines, image.DebugSection(".debug_line_str"), image.DebugSection(".debug_str"));
    }

    /// <summary>Reads every line program in a <c>.debug_line</c> section.</summary>
    public static DwarfLineTable Parse(byte[] debugLine, byte[]? debugLineStr = null, byte[]? debugStr = null)
    {
        var rows = new List<LineRow>();
        var r = new Reader(debugLine, 0);
        while (r.Position < debugLine.Length)
        {
            int unitStart = r.Position;
            ReadUnit(ref r, debugLine, debugLineStr, debugStr, rows, unitStart);
        }
        return new DwarfLineTable(rows);
    }

    /// <summary>The source line of the instruction at <paramref name="address"/>, if the table covers it.</summary>
    public SourceLine? Lookup(uint address)
    {
        int lo = 0, hi = _ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            LineRange range = _ranges[mid];
            if (address < range.Start)
            {
                hi = mid - 1;
            }
            else if (address >= range.End)
            {
                lo = mid + 1;
            }
            else
            {
                return range.Source;
            }
        }
        return null;
    }

    private static void ReadUnit(ref Reader r, byte[] section, byte[]? lineStr, byte[]? str, List<LineRow> rows, int unitStart)
    {
        ulong unitLength = r.U32();
        bool dwarf64 = false;
        if (unitLength == 0xFFFF_FFFF)
        {
            unitLength = r.U64();
            dwarf64 = true;
        }
        else if (unitLength >= 0xFFFF_FFF0)
        {
            throw new DwarfException($".debug_line+0x{unitStart:x}: reserved unit length 0x{unitLength:x}");
        }
        long unitEnd = r.Position + (long)unitLength;
        if (unitEnd > section.Length)
        {
            throw new DwarfException($".debug_line+0x{unitStart:x}: unit length 0x{unitLength:x} runs past the section");
        }
        ushort version = r.U16();
        if (version is < 2 or > 5)
        {
            throw new DwarfException($".debug_line+0x{unitStart:x}: unsupported line table version {version}");
        }
        if (version >= 5)
        {
            r.U8(); // address_size (DW_LNE_set_address carries its own length)
            r.U8(); // segment_selector_size
        }
        ulong headerLength = dwarf64 ? r.U64() : r.U32();
        long programStart = r.Position + (long)headerLength;
        if (programStart > unitEnd)
        {
            throw new DwarfException($".debug_line+0x{unitStart:x}: header length runs past the unit");
        }
        int minInstLength = r.U8();
        if (version >= 4)
        {
            r.U8(); // maximum_operations_per_instruction (1 on non-VLIW machines)
        }
        bool defaultIsStmt = r.U8() != 0;
        int lineBase = (sbyte)r.U8();
        int lineRange = r.U8();
        int opcodeBase = r.U8();
        if (lineRange == 0)
        {
            throw new DwarfException($".debug_line+0x{unitStart:x}: line_range is 0");
        }
        byte[] standardLengths = new byte[Math.Max(opcodeBase, 1)];
        for (int i = 1; i < opcodeBase; i++)
        {
            standardLengths[i] = r.U8();
        }

        List<string> files;
        if (version >= 5)
        {
            List<string> dirs = ReadEntriesV5(ref r, lineStr, str, dwarf64, unitStart).Select(e => e.Path).ToList();
            files = ReadEntriesV5(ref r, lineStr, str, dwarf64, unitStart)
                .Select(e => JoinPath(e.Directory < (ulong)dirs.Count ? dirs[(int)e.Directory] : "", e.Path, dirs.Count > 0 ? dirs[0] : ""))
                .ToList();
        }
        else
        {
            // v2-4: directory 0 is the compilation directory and is not listed; files count from 1.
            var dirs = new List<string> { "" };
            for (string d = r.CString(); d.Length > 0; d = r.CString())
            {
                dirs.Add(d);
            }
            files = [""];
            for (string name = r.CString(); name.Length > 0; name = r.CString())
            {
                ulong dir = r.Uleb();
                r.Uleb(); // modification time
                r.Uleb(); // length
                files.Add(JoinPath(dir < (ulong)dirs.Count ? dirs[(int)dir] : "", name, ""));
            }
        }

        r.Position = (int)programStart;
        RunProgram(ref r, (int)unitEnd, version, minInstLength, defaultIsStmt, lineBase, lineRange, opcodeBase,
            standardLengths, files, rows, unitStart);
        r.Position = (int)unitEnd;
    }

    private static List<(string Path, ulong Directory)> ReadEntriesV5(ref Reader r, byte[]? lineStr, byte[]? str, bool dwarf64, int unitStart)
    {
        int formatCount = r.U8();
        var format = new (ulong Content, ulong Form)[formatCount];
        for (int i = 0; i < formatCount; i++)
        {
            format[i] = (r.Uleb(), r.Uleb());
        }
        ulong count = r.Uleb();
        var entries = new List<(string, ulong)>();
        for (ulong n = 0; n < count; n++)
        {
            string path = "";
            ulong dir = 0;
            foreach ((ulong content, ulong form) in format)
            {
                switch (content)
                {
                    case LnctPath:
                        path = ReadString(ref r, form, lineStr, str, dwarf64, unitStart);
                        break;
                    case LnctDirectoryIndex:
                        dir = ReadUnsigned(ref r, form, unitStart);
                        break;
                    default:
                        SkipForm(ref r, form, dwarf64, unitStart); // timestamp, size, MD5, vendor content
                        break;
                }
            }
            entries.Add((path, dir));
        }
        return entries;
    }

    private static string ReadString(ref Reader r, ulong form, byte[]? lineStr, byte[]? str, bool dwarf64, int unitStart)
    {
        switch (form)
        {
            case FormString:
                return r.CString();
            case FormLineStrp:
            case FormStrp:
                ulong offset = dwarf64 ? r.U64() : r.U32();
                byte[]? table = form == FormLineStrp ? lineStr : str;
                string name = form == FormLineStrp ? ".debug_line_str" : ".debug_str";
                if (table is null || offset >= (ulong)table.Length)
                {
                    throw new DwarfException($".debug_line+0x{unitStart:x}: string offset 0x{offset:x} is outside {name}");
                }
                return new Reader(table, (int)offset).CString();
            default:
                throw new DwarfException($".debug_line+0x{unitStart:x}: unsupported string form 0x{form:x}");
        }
    }

    private static ulong ReadUnsigned(ref Reader r, ulong form, int unitStart) => form switch
    {
        FormData1 => r.U8(),
        FormData2 => r.U16(),
        FormData4 => r.U32(),
        FormData8 => r.U64(),
        FormUdata => r.Uleb(),
        _ => throw new DwarfException($".debug_line+0x{unitStart:x}: unsupported directory index form 0x{form:x}"),
    };

    private static void SkipForm(ref Reader r, ulong form, bool dwarf64, int unitStart)
    {
        switch (form)
        {
            case FormData1: r.Skip(1); break;
            case FormData2: r.Skip(2); break;
            case FormData4: r.Skip(4); break;
            case FormData8: r.Skip(8); break;
            case FormData16: r.Skip(16); break;
            case FormUdata: r.Uleb(); break;
            case FormSdata: r.Sleb(); break;
            case FormString: r.CString(); break;
            case FormStrp:
            case FormLineStrp: r.Skip(dwarf64 ? 8 : 4); break;
            case FormBlock: r.Skip((int)r.Uleb()); break;
            case FormBlock1: r.Skip(r.U8()); break;
            case FormBlock2: r.Skip(r.U16()); break;
            case FormBlock4: r.Skip((int)r.U32()); break;
            default: throw new DwarfException($".debug_line+0x{unitStart:x}: unsupported entry form 0x{form:x}");
        }
    }

    /// <summary>The line-number state machine (§6.2.2) over one unit's program.</summary>
    private static void RunProgram(ref Reader r, int end, int version, int minInstLength, bool defaultIsStmt,
        int lineBase, int lineRange, int opcodeBase, byte[] standardLengths, List<string> files, List<LineRow> rows, int unitStart)
    {
        uint address = 0;
        ulong file = 1;
        int line = 1, column = 0;
        bool isStmt = defaultIsStmt;

        string FileName(ulong index) => index < (ulong)files.Count ? files[(int)index] : $"<file {index}>";
        void Emit(bool endSequence) => rows.Add(new LineRow(address, FileName(file), line, column, isStmt, endSequence));
        void Reset()
        {
            address = 0;
            file = 1;
            line = 1;
            column = 0;
            isStmt = defaultIsStmt;
        }

        while (r.Position < end)
        {
            byte opcode = r.U8();
            if (opcode >= opcodeBase)
            {
                int adjusted = opcode - opcodeBase;
                address += (uint)(adjusted / lineRange * minInstLength);
                line += lineBase + adjusted % lineRange;
                Emit(false);
                continue;
            }
            switch (opcode)
            {
                case 0:
                    ulong length = r.Uleb();
                    if (length == 0)
                    {
                        continue;
                    }
                    int next = r.Position + (int)length;
                    if (next > end)
                    {
                        throw new DwarfException($".debug_line+0x{unitStart:x}: extended opcode runs past the unit");
                    }
                    byte sub = r.U8();
                    switch (sub)
                    {
                        case LneEndSequence:
                            Emit(true);
                            Reset();
                            break;
                        case LneSetAddress:
                            address = (uint)r.Address((int)length - 1);
                            break;
                        case LneDefineFile when version <= 4:
                            string name = r.CString();
                            r.Uleb(); // directory (relative names are kept as they are)
                            files.Add(name);
                            break;
                        case LneSetDiscriminator:
                            break; // only the position matters
                    }
                    r.Position = next; // also skips unknown and vendor extended opcodes
                    break;
                case LnsCopy:
                    Emit(false);
                    break;
                case LnsAdvancePc:
                    address += (uint)(r.Uleb() * (ulong)minInstLength);
                    break;
                case LnsAdvanceLine:
                    line += (int)r.Sleb();
                    break;
                case LnsSetFile:
                    file = r.Uleb();
                    break;
                case LnsSetColumn:
                    column = (int)r.Uleb();
                    break;
                case LnsNegateStmt:
                    isStmt = !isStmt;
                    break;
                case LnsSetBasicBlock:
                case LnsSetPrologueEnd:
                case LnsSetEpilogueBegin:
                    break;
                case LnsConstAddPc:
                    address += (uint)((255 - opcodeBase) / lineRange * minInstLength);
                    break;
                case LnsFixedAdvancePc:
                    address += r.U16();
                    break;
                case LnsSetIsa:
                    r.Uleb();
                    break;
                default:
                    // A standard opcode this reader does not know: skip its ULEB operands.
                    for (int i = 0; i < standardLengths[opcode]; i++)
                    {
                        r.Uleb();
                    }
                    break;
            }
        }
    }

    private static string JoinPath(string directory, string path, string compilationDirectory)
    {
        if (path.StartsWith('/'))
        {
            return Normalize(path);
        }
        if (directory.Length > 0 && !directory.StartsWith('/') && compilationDirectory.Length > 0)
        {
            directory = compilationDirectory + "/" + directory;
        }
        return Normalize(directory.Length == 0 ? path : directory + "/" + path);
    }

    /// <summary>Collapses "." and "x/.." components and doubled slashes; keeps a leading '/'.</summary>
    private static string Normalize(string path)
    {
        bool absolute = path.StartsWith('/');
        var parts = new List<string>();
        foreach (string part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }
            if (part == ".." && parts.Count > 0 && parts[^1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        string joined = string.Join('/', parts);
        return absolute ? "/" + joined : joined;
    }

    private static LineRange[] BuildRanges(List<LineRow> rows)
    {
        var ranges = new List<LineRange>();
        var sources = new Dictionary<(string, int), SourceLine>();
        for (int i = 0; i + 1 < rows.Count; i++)
        {
            LineRow row = rows[i];
            LineRow next = rows[i + 1];
            if (row.EndSequence || row.Line == 0 || next.Address <= row.Address)
            {
                continue; // the last row of a sequence, a "no line" row, or a row at the same address as the next
            }
            if (!sources.TryGetValue((row.File, row.Line), out SourceLine? source))
            {
                source = new SourceLine(row.File, row.Line);
                sources[(row.File, row.Line)] = source;
            }
            ranges.Add(new LineRange(row.Address, next.Address, source));
        }
        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        // Sequences of different units never overlap in a linked image; if they do, the first wins.
        var result = new List<LineRange>(ranges.Count);
        foreach (LineRange range in ranges)
        {
            if (result.Count > 0 && range.Start < result[^1].End)
            {
                if (range.End <= result[^1].End)
                {
                    continue;
                }
                result.Add(range with { Start = result[^1].End });
                continue;
            }
            result.Add(range);
        }
        return [.. result];
    }

    private static LineRange[] BuildStatementRanges(List<LineRow> rows)
    {
        var ranges = new List<LineRange>();
        var sources = new Dictionary<(string, int), SourceLine>();
        for (int i = 0; i + 1 < rows.Count; i++)
        {
            LineRow row = rows[i];
            LineRow next = rows[i + 1];
            if (row.EndSequence || row.Line == 0 || next.Address < row.Address || (next.Address == row.Address && (!row.IsStatement || next.EndSequence)))
            {
                continue;
            }
            if (!sources.TryGetValue((row.File, row.Line), out SourceLine? source))
            {
                source = new SourceLine(row.File, row.Line);
                sources[(row.File, row.Line)] = source;
            }
            uint end = next.Address > row.Address ? next.Address : row.Address + InstructionSize;
            ranges.Add(new LineRange(row.Address, end, source));
        }
        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        return [.. ranges];
    }

    /// <summary>A little-endian cursor over a section with the DWARF encodings (LEB128, C strings).</summary>
    private struct Reader(byte[] data, int position)
    {
        private readonly byte[] _data = data;

        public int Position = position;

        private void Need(int n)
        {
            if (Position < 0 || Position + n > _data.Length)
            {
                throw new DwarfException($"truncated line table at offset 0x{Position:x}");
            }
        }

        public byte U8()
        {
            Need(1);
            return _data[Position++];
        }

        public ushort U16()
        {
            Need(2);
            ushort v = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(Position));
            Position += 2;
            return v;
        }

        public uint U32()
        {
            Need(4);
            uint v = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(Position));
            Position += 4;
            return v;
        }

        public ulong U64()
        {
            Need(8);
            ulong v = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_data.AsSpan(Position));
            Position += 8;
            return v;
        }

        public ulong Address(int size) => size switch
        {
            1 => U8(),
            2 => U16(),
            4 => U32(),
            8 => U64(),
            _ => throw new DwarfException($"unsupported address size {size}"),
        };

        public void Skip(int n)
        {
            Need(n);
            Position += n;
        }

        public ulong Uleb()
        {
            ulong result = 0;
            int shift = 0;
            while (true)
            {
                byte b = U8();
                if (shift < 64)
                {
                    result |= (ulong)(b & 0x7F) << shift;
                }
                shift += 7;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }
        }

        public long Sleb()
        {
            long result = 0;
            int shift = 0;
            byte b;
            do
            {
                b = U8();
                if (shift < 64)
                {
                    result |= (long)(b & 0x7F) << shift;
                }
                shift += 7;
            }
            while ((b & 0x80) != 0);
            if (shift < 64 && (b & 0x40) != 0)
            {
                result |= -1L << shift;
            }
            return result;
        }

        public string CString()
        {
            int start = Position;
            while (true)
            {
                Need(1);
                if (_data[Position] == 0)
                {
                    break;
                }
                Position++;
            }
            string s = Encoding.UTF8.GetString(_data, start, Position - start);
            Position++;
            return s;
        }
    }
}
