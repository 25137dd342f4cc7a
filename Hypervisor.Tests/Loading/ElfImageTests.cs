using Hypervisor.Cpu;
using Hypervisor.Loading;
using Hypervisor.Machine;
using Hypervisor.Tests.Isa;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Loading;

public sealed class ElfImageTests : IDisposable
{
    private const uint RamBase = 0x8000_0000;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hv-elf-tests-" + Guid.NewGuid().ToString("N"));

    public ElfImageTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] MinimalProgram() => ElfBuilder.Code(Encode.J(Encode.OpJal, 0, 0)); // j .

    private static ElfBuilder ValidBuilder() => new ElfBuilder { Entry = RamBase }.AddLoad(RamBase, MinimalProgram());

    private static ElfLoadException AssertRejected(string path)
    {
        var e = Assert.Throws<ElfLoadException>(() => ElfImage.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        return e;
    }

    // ------------------------------------------------------------ rejections

    [Fact]
    public void Missing_file_is_rejected_naming_it()
    {
        string path = Path.Combine(_dir, "does-not-exist.elf");
        ElfLoadException e = AssertRejected(path);
        Assert.Contains("no such file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_file_is_rejected_as_not_an_elf()
    {
        string path = WriteFile("notes.txt", "this is not a guest image, just some text\n"u8.ToArray());
        ElfLoadException e = AssertRejected(path);
        Assert.Contains("not an ELF", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_file_is_rejected_as_not_an_elf()
    {
        string path = WriteFile("empty.elf", []);
        AssertRejected(path);
    }

    [Fact]
    public void Magic_alone_is_rejected()
    {
        string path = WriteFile("magic.elf", [0x7F, (byte)'E', (byte)'L', (byte)'F']);
        AssertRejected(path);
    }

    [Theory]
    [InlineData(10)]     // inside e_ident
    [InlineData(24)]     // past e_machine, before e_entry
    [InlineData(40)]     // inside the ELF header
    [InlineData(60)]     // inside the program headers
    [InlineData(0x0FF0)] // program headers whole, segment contents missing
    [InlineData(0x1100)] // segment contents cut short
    public void Truncated_hello_elf_is_rejected_with_an_elf_load_exception(int length)
    {
        byte[] whole = File.ReadAllBytes(RepoPaths.Guest("hello"));
        Assert.True(whole.Length > length);
        string path = WriteFile($"hello-{length}.elf", whole[..length]);
        AssertRejected(path);
    }

    [Fact]
    public void Truncated_before_section_headers_is_rejected_or_loads_cleanly()
    {
        // Cut off inside the section header table: the loadable parts are intact. Either a clean
        // rejection or a successful load is acceptable; any other exception is not.
        byte[] whole = File.ReadAllBytes(RepoPaths.Guest("hello"));
        string path = WriteFile("hello-no-sections.elf", whole[..(whole.Length - 20)]);
        Exception? e = Record.Exception(() => ElfImage.Load(path));
        if (e is not null)
        {
            Assert.IsType<ElfLoadException>(e);
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>hello.elf with one 32-bit field of the section header of its symbol table's string table replaced.</summary>
    private static byte[] HelloWithStringTableField(int fieldOffset, uint value)
    {
        byte[] bytes = File.ReadAllBytes(RepoPaths.Guest("hello"));
        int shoff = BitConverter.ToInt32(bytes, 32);
        int shentsize = BitConverter.ToUInt16(bytes, 46);
        int shnum = BitConverter.ToUInt16(bytes, 48);
        for (int i = 0; i < shnum; i++)
        {
            int sh = shoff + i * shentsize;
            if (BitConverter.ToUInt32(bytes, sh + 4) == 2) // SHT_SYMTAB
            {
                int link = BitConverter.ToInt32(bytes, sh + 24);
                BitConverter.TryWriteBytes(bytes.AsSpan(shoff + link * shentsize + fieldOffset), value);
                return bytes;
            }
        }
        throw new InvalidOperationException("hello.elf has no symbol table");
    }

    [Fact]
    public void Symbol_string_table_of_the_wrong_section_type_is_rejected()
    {
        // sh_type of .strtab set to PROGBITS: the symbol table now links to something that is not a string table.
        string path = WriteFile("bad-strtab-type.elf", HelloWithStringTableField(4, 1));
        AssertRejected(path);
    }

    [Fact]
    public void Section_larger_than_the_file_is_rejected()
    {
        // sh_size of .strtab set to 2 GiB - 1: far beyond the 15 KiB file.
        string path = WriteFile("huge-strtab.elf", HelloWithStringTableField(20, 0x7FFF_FFFF));
        AssertRejected(path);
    }

    [Fact]
    public void Segment_contents_beyond_end_of_file_are_rejected()
    {
        byte[] bytes = ValidBuilder().Build();
        // Point the segment's file offset (program header 0, p_offset) far past the end.
        BitConverter.TryWriteBytes(bytes.AsSpan(52 + 4), 0x10_0000u);
        string path = WriteFile("bad-offset.elf", bytes);
        AssertRejected(path);
    }

    [Fact]
    public void Elf64_is_rejected_as_not_32_bit()
    {
        byte[] bytes = ValidBuilder().Build();
        bytes[4] = 2; // ELFCLASS64
        string path = WriteFile("rv64.elf", bytes);
        ElfLoadException e = AssertRejected(path);
        Assert.Contains("64-bit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_executable_is_rejected()
    {
        // /bin/ls is an x86-64 ELF64 on the CI hosts; elsewhere a crafted x86-64 header stands in.
        string path;
        if (File.Exists("/bin/ls") && File.ReadAllBytes("/bin/ls") is [0x7F, (byte)'E', (byte)'L', (byte)'F', ..])
        {
            path = "/bin/ls";
        }
        else
        {
            byte[] bytes = new ElfBuilder { Machine = ElfBuilder.MachineX86_64 }.AddLoad(0x40_0000, MinimalProgram()).Build();
            bytes[4] = 2;
            path = WriteFile("x86-64.elf", bytes);
        }
        AssertRejected(path);
    }

    [Fact]
    public void Big_endian_elf_is_rejected()
    {
        byte[] bytes = ValidBuilder().Build();
        bytes[5] = 2; // ELFDATA2MSB
        string path = WriteFile("big-endian.elf", bytes);
        ElfLoadException e = AssertRejected(path);
        Assert.Contains("big-endian", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ElfBuilder.MachineI386)]
    [InlineData(ElfBuilder.MachineX86_64)]
    [InlineData((ushort)40)] // ARM
    public void Elf32_for_another_machine_is_rejected_naming_the_machine(ushort machine)
    {
        byte[] bytes = new ElfBuilder { Machine = machine }.AddLoad(RamBase, MinimalProgram()).Build();
        string path = WriteFile($"machine-{machine}.elf", bytes);
        ElfLoadException e = AssertRejected(path);
        Assert.Contains(machine.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Contains("RISC-V", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Elf_without_load_segments_is_rejected()
    {
        byte[] bytes = new ElfBuilder().AddSegment(ElfBuilder.PtNote, RamBase, new byte[16]).Build();
        string path = WriteFile("no-load.elf", bytes);
        ElfLoadException e = AssertRejected(path);
        Assert.Contains("PT_LOAD", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Elf_without_any_program_header_is_rejected()
    {
        byte[] bytes = new ElfBuilder().Build();
        string path = WriteFile("no-phdrs.elf", bytes);
        AssertRejected(path);
    }

    [Theory]
    [InlineData(ElfBuilder.EtDyn)]
    [InlineData(ElfBuilder.EtRel)]
    public void Elf_that_is_not_an_executable_is_rejected(ushort type)
    {
        byte[] bytes = new ElfBuilder { Type = type }.AddLoad(RamBase, MinimalProgram()).Build();
        string path = WriteFile($"type-{type}.elf", bytes);
        AssertRejected(path);
    }

    // ------------------------------------------------------------ crafted images that load

    [Fact]
    public void Crafted_minimal_executable_loads_with_its_entry_and_segment()
    {
        byte[] code = MinimalProgram();
        string path = WriteFile("minimal.elf", new ElfBuilder { Entry = RamBase }.AddLoad(RamBase, code, 0x2000).Build());

        ElfImage image = ElfImage.Load(path);

        Assert.Equal(RamBase, image.Entry);
        LoadSegment seg = Assert.Single(image.Segments);
        Assert.Equal(RamBase, seg.PhysicalAddress);
        Assert.Equal(0x2000u, seg.MemorySize);
        Assert.Equal(code, seg.Data);
        Assert.Equal(path, image.Path);
    }

    // ------------------------------------------------------------ the VM's checks on an image

    [Fact]
    public void Vm_rejects_a_segment_outside_ram()
    {
        string path = WriteFile("low.elf", new ElfBuilder { Entry = 0x1000 }.AddLoad(0x1000, MinimalProgram()).Build());
        ElfImage image = ElfImage.Load(path);

        var e = Assert.Throws<ElfLoadException>(() => new VirtualMachine("low", image, new MachineConfig()));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("0x00001000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vm_rejects_a_segment_running_past_the_end_of_ram()
    {
        var config = new MachineConfig { MemorySize = 1u << 20 };
        uint nearEnd = RamBase + (1u << 20) - 8;
        string path = WriteFile("tail.elf", new ElfBuilder { Entry = RamBase }
            .AddLoad(RamBase, MinimalProgram())
            .AddLoad(nearEnd, new byte[16]).Build());

        var e = Assert.Throws<ElfLoadException>(() => new VirtualMachine("tail", ElfImage.Load(path), config));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vm_rejects_an_entry_point_outside_ram()
    {
        string path = WriteFile("entry.elf", new ElfBuilder { Entry = 0x1000 }.AddLoad(RamBase, MinimalProgram()).Build());
        ElfImage image = ElfImage.Load(path);

        var e = Assert.Throws<ElfLoadException>(() => new VirtualMachine("entry", image, new MachineConfig()));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("entry", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vm_rejects_a_misaligned_entry_point()
    {
        string path = WriteFile("entry2.elf", new ElfBuilder { Entry = RamBase + 2 }.AddLoad(RamBase, MinimalProgram()).Build());
        Assert.Throws<ElfLoadException>(() => new VirtualMachine("entry2", ElfImage.Load(path), new MachineConfig()));
    }

    [Fact]
    public void Vm_without_tohost_symbol_watches_no_address()
    {
        string path = WriteFile("plain.elf", ValidBuilder().Build());
        var vm = new VirtualMachine("plain", ElfImage.Load(path), new MachineConfig());
        Assert.Null(vm.Bus.ToHostAddress);
    }

    // ------------------------------------------------------------ the committed hello guest

    [Fact]
    public void Hello_elf_loads_with_entry_at_ram_base()
    {
        ElfImage image = ElfImage.Load(RepoPaths.Guest("hello"));

        Assert.Equal(0x8000_0000u, image.Entry);
        Assert.NotEmpty(image.Segments);
        Assert.Equal(0x8000_0000u, image.Segments[0].PhysicalAddress);
    }

    [Fact]
    public void Hello_elf_symbols_are_found_by_name()
    {
        ElfImage image = ElfImage.Load(RepoPaths.Guest("hello"));

        Assert.Equal(image.Entry, image.FindSymbol("_start"));
        uint? main = image.FindSymbol("main");
        Assert.NotNull(main);
        LoadSegment text = image.Segments[0];
        Assert.InRange(main.Value, text.PhysicalAddress, text.PhysicalAddress + text.MemorySize - 1);
        Assert.True(image.Symbols.Single(s => s.Name == "main").IsFunction);
        Assert.Null(image.FindSymbol("no_such_symbol"));
    }

    [Fact]
    public void Hello_elf_vm_starts_at_entry_in_machine_mode_with_a0_a1_zero()
    {
        var vm = new VirtualMachine("hello", ElfImage.Load(RepoPaths.Guest("hello")), new MachineConfig());

        Assert.Equal(0x8000_0000u, vm.State.Pc);
        Assert.Equal(Privilege.Machine, vm.State.Privilege);
        Assert.Equal(0u, vm.State.X[10]);
        Assert.Equal(0u, vm.State.X[11]);
        Assert.Null(vm.Bus.ToHostAddress);
    }

    // ------------------------------------------------------------ HTIF tohost

    private const uint ToHost = RamBase + 0x1000;

    /// <summary>li t0, tohost; li t1, value; sw t1, 0(t0); j .</summary>
    private string WriteToHostProgram(string name, int value)
    {
        byte[] code = ElfBuilder.Code(
            Encode.U(Encode.OpLui, 5, unchecked((int)ToHost)),
            Encode.I(Encode.OpImm, 6, 0, 0, value),
            Encode.S(Encode.OpStore, 2, 5, 6, 0),
            Encode.J(Encode.OpJal, 0, 0));
        byte[] elf = new ElfBuilder { Entry = RamBase }
            .AddLoad(RamBase, code, memorySize: 0x2000)
            .AddSymbol("tohost", ToHost)
            .Build();
        return WriteFile(name, elf);
    }

    [Fact]
    public void Tohost_symbol_is_found_and_watched_by_the_bus()
    {
        ElfImage image = ElfImage.Load(WriteToHostProgram("tohost.elf", 1));
        Assert.Equal(ToHost, image.FindSymbol("tohost"));

        var vm = new VirtualMachine("tohost", image, new MachineConfig());

        Assert.Equal(ToHost, vm.Bus.ToHostAddress);
    }

    [Fact]
    public void Guest_store_of_one_to_tohost_powers_off_with_exit_code_zero()
    {
        var vm = new VirtualMachine("pass", ElfImage.Load(WriteToHostProgram("pass.elf", 1)), new MachineConfig());

        SliceOutcome outcome = vm.RunSlice(1000);

        Assert.Equal(StopReason.PowerOff, outcome.Reason);
        Assert.Equal(VmState.PoweredOff, vm.VmState);
        Assert.Equal(0, vm.ExitCode);
    }

    [Fact]
    public void Guest_store_of_odd_value_to_tohost_powers_off_with_code_in_upper_bits()
    {
        var vm = new VirtualMachine("fail", ElfImage.Load(WriteToHostProgram("fail.elf", (5 << 1) | 1)), new MachineConfig());

        SliceOutcome outcome = vm.RunSlice(1000);

        Assert.Equal(StopReason.PowerOff, outcome.Reason);
        Assert.Equal(5, vm.ExitCode);
    }

    [Fact]
    public void Guest_store_of_even_value_to_tohost_does_not_power_off()
    {
        var vm = new VirtualMachine("even", ElfImage.Load(WriteToHostProgram("even.elf", 2)), new MachineConfig());

        SliceOutcome outcome = vm.RunSlice(1000);

        Assert.Equal(StopReason.BudgetExhausted, outcome.Reason);
        Assert.Null(vm.ExitCode);
        Assert.Equal(2u, vm.Ram.Read(ToHost - RamBase, 4));
    }
}
