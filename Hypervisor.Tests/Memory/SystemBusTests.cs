using Hypervisor.Memory;

namespace Hypervisor.Tests.Memory;

public class SystemBusTests
{
    private const uint RamBase = 0x8000_0000;
    private readonly SystemBus _bus = new(new GuestRam(1u << 20, RamBase));

    [Theory]
    [InlineData(0x0000_0000u)]
    [InlineData(0x0000_1000u)]
    [InlineData(0x7FFF_FFFCu)]
    [InlineData(0x8010_0000u)] // just past RAM
    [InlineData(0xFFFF_FFFCu)]
    public void Unmapped_address_fails_read_and_write(uint address)
    {
        Assert.False(_bus.Read(address, 4, out uint value));
        Assert.Equal(0u, value);
        Assert.False(_bus.Write(address, 4, 1));
    }

    [Fact]
    public void Access_running_off_the_end_of_ram_fails()
    {
        Assert.False(_bus.Read(0x800F_FFFE, 4, out _));
        Assert.False(_bus.Write(0x800F_FFFE, 4, 1));
    }

    [Fact]
    public void Ram_reads_back_what_was_written()
    {
        Assert.True(_bus.Write(RamBase + 0x100, 4, 0xCAFEBABE));
        Assert.True(_bus.Read(RamBase + 0x100, 4, out uint value));
        Assert.Equal(0xCAFEBABEu, value);
        Assert.Equal(0xCAFEBABEu, _bus.Ram.Read(0x100, 4));
    }

    [Fact]
    public void Device_is_accessed_with_offsets_relative_to_its_base()
    {
        var dev = new RecordingDevice("dev", 0x100, readValue: 0x55);
        _bus.Map(0x1000_0000, dev);

        Assert.True(_bus.Read(0x1000_0005, 1, out uint value));
        Assert.True(_bus.Write(0x1000_0010, 4, 0xAB));

        Assert.Equal(0x55u, value);
        Assert.Equal([("R", 5u, 1, 0u), ("W", 0x10u, 4, 0xABu)], dev.Accesses);
    }

    [Fact]
    public void Access_straddling_the_end_of_a_device_fails_without_reaching_it()
    {
        var dev = new RecordingDevice("dev", 0x100);
        _bus.Map(0x1000_0000, dev);

        Assert.False(_bus.Read(0x1000_00FE, 4, out _));
        Assert.False(_bus.Write(0x1000_00FE, 4, 0));
        Assert.Empty(dev.Accesses);
    }

    [Fact]
    public void Device_refusing_an_access_makes_the_bus_access_fail()
    {
        var clintLike = new Hypervisor.Devices.TestFinisher((_, _) => { });
        _bus.Map(0x0010_0000, clintLike);

        Assert.False(_bus.Write(0x0010_0000, 1, 0x55));
    }

    [Fact]
    public void Overlapping_devices_are_rejected()
    {
        _bus.Map(0x1000_0000, new RecordingDevice("a", 0x1000));

        var e = Assert.Throws<ArgumentException>(() => _bus.Map(0x1000_0800, new RecordingDevice("b", 0x1000)));
        Assert.Contains("a", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => _bus.Map(0x0FFF_F800, new RecordingDevice("c", 0x1000)));
        Assert.Throws<ArgumentException>(() => _bus.Map(0x0F00_0000, new RecordingDevice("d", 0x200_0000)));
    }

    [Fact]
    public void Adjacent_devices_are_accepted()
    {
        _bus.Map(0x1000_0000, new RecordingDevice("a", 0x1000));
        _bus.Map(0x1000_1000, new RecordingDevice("b", 0x1000));
        _bus.Map(0x0FFF_F000, new RecordingDevice("c", 0x1000));

        Assert.Equal(3, _bus.Devices.Count());
    }

    [Fact]
    public void Device_overlapping_ram_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => _bus.Map(0x8008_0000, new RecordingDevice("x", 0x1000)));
        Assert.Throws<ArgumentException>(() => _bus.Map(0x7FFF_F800, new RecordingDevice("y", 0x1000)));
    }

    [Fact]
    public void Store_to_a_code_page_notifies_the_observer_with_address_and_size()
    {
        var observer = new RecordingCodeObserver();
        _bus.AddCodeObserver(observer);
        _bus.MarkCodePage(RamBase + 0x3000);

        Assert.True(_bus.Write(RamBase + 0x3ABC, 2, 0x1234));
        Assert.True(_bus.Write(RamBase + 0x3FFF, 1, 0x56));

        Assert.Equal([(RamBase + 0x3ABC, 2), (RamBase + 0x3FFF, 1)], observer.Writes);
    }

    [Fact]
    public void Store_to_an_ordinary_page_does_not_notify()
    {
        var observer = new RecordingCodeObserver();
        _bus.AddCodeObserver(observer);
        _bus.MarkCodePage(RamBase + 0x3000);

        _bus.Write(RamBase + 0x2FF0, 4, 1);
        _bus.Write(RamBase + 0x4000, 4, 1);

        Assert.Empty(observer.Writes);
    }

    [Fact]
    public void Store_straddling_into_a_code_page_notifies()
    {
        var observer = new RecordingCodeObserver();
        _bus.AddCodeObserver(observer);
        _bus.MarkCodePage(RamBase + 0x3000);

        _bus.Write(RamBase + 0x2FFE, 4, 0xFFFF_FFFF);

        Assert.Equal([(RamBase + 0x2FFE, 4)], observer.Writes);
    }

    [Fact]
    public void Marking_a_code_page_raises_the_event_once_with_the_page_address()
    {
        var marked = new List<uint>();
        _bus.CodePageMarked += marked.Add;

        _bus.MarkCodePage(RamBase + 0x5123);
        _bus.MarkCodePage(RamBase + 0x5FFC);

        Assert.Equal([RamBase + 0x5000], marked);
        Assert.True(_bus.IsCodePage(RamBase + 0x5000));
        Assert.False(_bus.IsCodePage(RamBase + 0x6000));
    }

    [Fact]
    public void Clearing_code_pages_stops_notifications()
    {
        var observer = new RecordingCodeObserver();
        _bus.AddCodeObserver(observer);
        _bus.MarkCodePage(RamBase);

        _bus.ClearCodePages();
        _bus.Write(RamBase, 4, 1);

        Assert.Empty(observer.Writes);
    }

    [Fact]
    public void Removed_observer_is_not_notified()
    {
        var observer = new RecordingCodeObserver();
        _bus.AddCodeObserver(observer);
        _bus.RemoveCodeObserver(observer);
        _bus.MarkCodePage(RamBase);

        _bus.Write(RamBase, 4, 1);

        Assert.Empty(observer.Writes);
    }

    [Fact]
    public void Store_covering_tohost_reports_the_word_written()
    {
        var values = new List<uint>();
        _bus.ToHostAddress = RamBase + 0x1000;
        _bus.ToHostWritten = values.Add;

        _bus.Write(RamBase + 0x1000, 4, 0x0B);
        _bus.Write(RamBase + 0x1004, 4, 0x99); // next word: not tohost

        Assert.Equal([0x0Bu], values);
    }

    [Fact]
    public void Tohost_page_needs_the_slow_store_path()
    {
        _bus.ToHostAddress = RamBase + 0x1008;

        Assert.True(_bus.NeedsSlowStore(RamBase + 0x1000));
        Assert.False(_bus.NeedsSlowStore(RamBase + 0x2000));
    }
}
