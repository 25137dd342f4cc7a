using Hypervisor.Loading;
using Hypervisor.Profiling;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Profiling;

/// <summary>
/// The DWARF line-table reader: on a real guest (gcc 12, DWARF 5; the expected lines are what
/// riscv64-unknown-elf-addr2line says for these addresses), and on hand-assembled line programs
/// with v2, v3, v4 and v5 headers that use every kind of opcode.
/// </summary>
public sealed class DwarfLineTableTests
{
    [Theory]
    [InlineData(0x8000_0060u, "profile-demo/profile-demo.c", 18)] // counted: return x * 3u + 1u;
    [InlineData(0x8000_0080u, "profile-demo/profile-demo.c", 25)] // triangle's loop body
    [InlineData(0x8000_00a4u, "profile-demo/profile-demo.c", 33)] // the never-taken line
    [InlineData(0x8000_00b8u, "profile-demo/profile-demo.c", 36)] // rows for 35 and 36 share it: the last one wins, as in addr2line
    [InlineData(0x8000_025cu, "common/hv.c", 27)] // hv_exit
    [InlineData(0x8000_0290u, "common/hv.c", 48)] // hv_printf
    [InlineData(0x8000_0000u, "crt0.S", 9)] // _start (the assembler's .file names no folder)
    [InlineData(0x8000_0030u, "crt0.S", 18)]
    public void A_guest_built_with_g_maps_addresses_to_their_source_lines(uint address, string file, int line)
    {
        DwarfLineTable table = DwarfLineTable.FromImage(ElfImage.Load(RepoPaths.Guest("profile-demo")))!;

        Assert.Equal(new SourceLine(file, line), table.Lookup(address));
    }

    [Fact]
    public void A_known_function_starts_at_its_first_line_and_the_table_covers_all_code()
    {
        ElfImage image = ElfImage.Load(RepoPaths.Guest("profile-demo"));
        DwarfLineTable table = DwarfLineTable.FromImage(image)!;
        ElfSymbol counted = image.Symbols.Single(s => s.Name == "counted");

        Assert.Equal(18, table.Lookup(counted.Address)!.Line);
        Assert.Null(table.Lookup(0x7fff_fffc));
        // Every instruction of every function has a line (the guest and its runtime are built with -g).
        foreach (ElfSymbol f in image.Symbols.Where(s => s.IsFunction && s.Size > 0))
        {
            for (uint a = f.Address; a < f.Address + f.Size; a += 4)
            {
                Assert.True(table.Lookup(a) is not null, $"{f.Name}+0x{a - f.Address:x} has no line");
            }
        }
        // The line after the never-taken one has only a zero-length statement row, kept for coverage.
        Assert.Contains(table.StatementRanges, r => r.Source.Line == 35 && r.Start == 0x8000_00b8 && r.End == 0x8000_00bc);
    }

    [Fact]
    public void An_image_without_debug_info_has_no_table()
    {
        Assert.Null(DwarfLineTable.FromImage(ElfImage.Load(RepoPaths.Guest("selfsum"))));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Version_2_to_4_headers_and_every_opcode(int version)
    {
        byte[] section = LineProgram.Legacy(version, LineProgram.Body(fileForHeader: 2));

        AssertBodyRows(DwarfLineTable.Parse(section), "src/a.c", "b.h");
    }

    [Fact]
    public void Version_5_header_with_inline_strings_md5_and_line_strp()
    {
        byte[] lineStr = [.. "a.c"u8, 0, .. "b.h"u8, 0];
        byte[] section = LineProgram.Version5(LineProgram.Body(fileForHeader: 2));

        DwarfLineTable table = DwarfLineTable.Parse(section, lineStr);

        AssertBodyRows(table, "/build/src/a.c", "/build/b.h");
    }

    [Fact]
    public void Two_units_in_one_section_are_both_read()
    {
        byte[] one = LineProgram.Legacy(3, LineProgram.Body(fileForHeader: 2));
        byte[] two = LineProgram.Legacy(4, LineProgram.Body(fileForHeader: 2, baseAddress: 0x9000_0000));

        DwarfLineTable table = DwarfLineTable.Parse([.. one, .. two]);

        Assert.Equal(new SourceLine("src/a.c", 11), table.Lookup(0x8000_0010));
        Assert.Equal(new SourceLine("src/a.c", 11), table.Lookup(0x9000_0010));
    }

    [Fact]
    public void A_truncated_section_is_a_clear_error()
    {
        byte[] section = LineProgram.Legacy(4, LineProgram.Body(fileForHeader: 2));

        Assert.Throws<DwarfException>(() => DwarfLineTable.Parse(section[..^9]));
        Assert.Throws<DwarfException>(() => DwarfLineTable.Parse([.. section[..4], 9, 0, .. section[6..]])); // version 9
    }

    private static void AssertBodyRows(DwarfLineTable table, string a, string b)
    {
        Assert.Equal(
            [
                new LineRange(0x8000_0000, 0x8000_0008, new SourceLine(a, 10)),
                new LineRange(0x8000_0008, 0x8000_001c, new SourceLine(a, 11)),
                new LineRange(0x8000_001c, 0x8000_0024, new SourceLine(b, 7)),
            ],
            table.Ranges);
        Assert.Equal(new SourceLine(a, 11), table.Lookup(0x8000_0018));
        Assert.Equal(new SourceLine(b, 7), table.Lookup(0x8000_0020));
        Assert.Null(table.Lookup(0x8000_0024));
        LineRow last = table.Rows[^1];
        Assert.True(last.EndSequence);
        Assert.Equal(0x8000_0024u, last.Address);
        Assert.Equal(3, table.Rows[2].Column);
        Assert.False(table.Rows[2].IsStatement);
    }

    /// <summary>Hand-assembled .debug_line units (DWARF 5, §6.2).</summary>
    private static class LineProgram
    {
        private const byte OpcodeBase = 13;
        private const sbyte LineBase = -5;
        private const byte LineRange = 14;
        private static readonly byte[] StandardLengths = [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1];

        /// <summary>
        /// Rows: 0x80000000 line 10; special opcode to 0x80000008 line 11; const_add_pc + fixed_advance_pc
        /// to 0x8000001c, file 2, line 7, column 3, not a statement; advance_pc to 0x80000024; end.
        /// Also a vendor extended opcode, set_discriminator, prologue/epilogue/basic-block/isa opcodes.
        /// </summary>
        public static byte[] Body(int fileForHeader, uint baseAddress = 0x8000_0000)
        {
            var b = new List<byte>();
            b.AddRange([0, 5, 2, .. BitConverter.GetBytes(baseAddress)]); // DW_LNE_set_address
            b.AddRange([3, 9]); // advance_line +9 -> 10
            b.Add(1); // copy
            b.AddRange([0, 2, 4, 1]); // DW_LNE_set_discriminator 1
            b.AddRange([0, 3, 0x80, 0xAA, 0xBB]); // a vendor extended opcode, skipped by its length
            b.Add(10); // prologue_end
            b.Add(7); // basic_block
            int adjusted = 8 * LineRange + (1 - LineBase); // address +8, line +1
            b.Add((byte)(adjusted + OpcodeBase));
            b.Add(8); // const_add_pc: +(255 - 13) / 14 = +17
            b.AddRange([9, 3, 0]); // fixed_advance_pc +3 -> +20
            b.AddRange([4, (byte)fileForHeader]); // set_file
            b.AddRange([3, 0x7C]); // advance_line -4 -> 7
            b.AddRange([5, 3]); // set_column 3
            b.Add(6); // negate_stmt
            b.Add(11); // epilogue_begin
            b.AddRange([12, 0]); // set_isa 0
            b.Add(1); // copy
            b.AddRange([2, 8]); // advance_pc +8
            b.AddRange([0, 1, 1]); // end_sequence
            return [.. b];
        }

        /// <summary>A v2/v3/v4 unit: include "src"; files a.c (in src) and b.h (in the compilation folder).</summary>
        public static byte[] Legacy(int version, byte[] body)
        {
            var h = new List<byte> { 1 }; // minimum_instruction_length
            if (version >= 4)
            {
                h.Add(1); // maximum_operations_per_instruction
            }
            h.AddRange([1, unchecked((byte)LineBase), LineRange, OpcodeBase, .. StandardLengths]);
            h.AddRange([.. "src"u8, 0, 0]);
            h.AddRange([.. "a.c"u8, 0, 1, 0, 0]);
            h.AddRange([.. "b.h"u8, 0, 0, 0, 0]);
            h.Add(0);
            return Unit((ushort)version, [], [.. h], body);
        }

        /// <summary>A v5 unit: directories "/build" and "src" (DW_FORM_string); files (path: DW_FORM_line_strp,
        /// directory: DW_FORM_udata, MD5: DW_FORM_data16) a.c in 1 (twice: 0 and 1 are the primary file) and b.h in 0.</summary>
        public static byte[] Version5(byte[] body)
        {
            var h = new List<byte> { 1, 1, 1, unchecked((byte)LineBase), LineRange, OpcodeBase };
            h.AddRange(StandardLengths);
            h.AddRange([1, 1, 0x08]); // directory format: (DW_LNCT_path, DW_FORM_string)
            h.Add(2);
            h.AddRange([.. "/build"u8, 0, .. "src"u8, 0]);
            h.AddRange([3, 1, 0x1f, 2, 0x0f, 5, 0x1e]); // file format
            h.Add(3);
            foreach ((int strOffset, byte dir) in new[] { (0, (byte)1), (0, (byte)1), (4, (byte)0) })
            {
                h.AddRange(BitConverter.GetBytes(strOffset));
                h.Add(dir);
                h.AddRange(new byte[16]);
            }
            return Unit(5, [4, 0], [.. h], body);
        }

        private static byte[] Unit(ushort version, byte[] afterVersion, byte[] header, byte[] body)
        {
            var u = new List<byte>();
            u.AddRange(BitConverter.GetBytes(version));
            u.AddRange(afterVersion); // v5: address_size, segment_selector_size
            u.AddRange(BitConverter.GetBytes((uint)header.Length));
            u.AddRange(header);
            u.AddRange(body);
            return [.. BitConverter.GetBytes((uint)u.Count), .. u];
        }
    }
}
