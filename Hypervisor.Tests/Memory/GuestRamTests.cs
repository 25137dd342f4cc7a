using Hypervisor.Memory;

namespace Hypervisor.Tests.Memory;

public class GuestRamTests
{
    private const int Chunk = GuestRam.ChunkSize;

    [Fact]
    public void Memory_is_allocated_in_4_KiB_pages()
    {
        Assert.Equal(4 * 1024, GuestRam.ChunkSize);
    }

    [Fact]
    public void A_store_allocates_only_the_page_it_touches()
    {
        var ram = new GuestRam(128u << 20);

        ram.Write(0x12_3456, 4, 0xDEADBEEF);

        Assert.Equal(4096L, ram.ResidentBytes);
        Assert.Equal([0x123], ram.AllocatedChunks());
        Assert.Equal(0xDEADBEEFu, ram.Read(0x12_3456, 4));
    }

    [Fact]
    public void Untouched_memory_reads_zero_and_costs_nothing_resident()
    {
        var ram = new GuestRam(128u << 20);

        Assert.Equal(0u, ram.Read(0, 4));
        Assert.Equal(0u, ram.Read((128u << 20) - 4, 4));
        Assert.Equal(0u, ram.Read(0x123457, 1));
        Assert.Equal(0L, ram.ResidentBytes);
        Assert.Empty(ram.AllocatedChunks());
    }

    [Fact]
    public void Reading_bytes_out_of_untouched_memory_allocates_nothing()
    {
        var ram = new GuestRam(1u << 20);
        byte[] buffer = new byte[3 * Chunk];
        Array.Fill(buffer, (byte)0xAA);

        ram.ReadBytes(100, buffer);

        Assert.All(buffer, b => Assert.Equal(0, b));
        Assert.Equal(0L, ram.ResidentBytes);
    }

    [Fact]
    public void First_store_allocates_exactly_one_chunk()
    {
        var ram = new GuestRam(1u << 20);

        Assert.True(ram.Write(3 * Chunk + 8, 4, 0xDEADBEEF));

        Assert.Equal((long)Chunk, ram.ResidentBytes);
        Assert.Equal([3], ram.AllocatedChunks());
        Assert.Equal(0xDEADBEEFu, ram.Read(3 * Chunk + 8, 4));
    }

    [Fact]
    public void Further_stores_to_the_same_chunk_allocate_nothing_more()
    {
        var ram = new GuestRam(1u << 20);
        ram.Write(0, 1, 1);

        ram.Write(Chunk - 4, 4, 2);
        ram.Write(100, 2, 3);

        Assert.Equal((long)Chunk, ram.ResidentBytes);
    }

    [Fact]
    public void Chunk_allocation_raises_the_event_with_its_index()
    {
        var ram = new GuestRam(1u << 20);
        var allocated = new List<int>();
        ram.ChunkAllocated += allocated.Add;

        ram.Write(5 * Chunk, 4, 1);
        ram.Write(5 * Chunk + 4, 4, 1);

        Assert.Equal([5], allocated);
    }

    [Fact]
    public void Reads_are_little_endian_at_any_size()
    {
        var ram = new GuestRam(1u << 20);
        ram.Write(0x40, 4, 0x11223344);

        Assert.Equal(0x44u, ram.Read(0x40, 1));
        Assert.Equal(0x3344u, ram.Read(0x40, 2));
        Assert.Equal(0x1122u, ram.Read(0x42, 2));
        Assert.Equal(0x00112233u, ram.Read(0x41, 4));
    }

    [Fact]
    public void Store_beyond_the_quota_is_refused_and_counted()
    {
        var ram = new GuestRam(1u << 20, quotaBytes: Chunk);
        Assert.True(ram.Write(0, 4, 1));

        Assert.False(ram.Write(Chunk, 4, 2));

        Assert.Equal(1, ram.QuotaRefusals);
        Assert.Equal((long)Chunk, ram.ResidentBytes);
        Assert.Equal(0u, ram.Read(Chunk, 4));
    }

    [Fact]
    public void Quota_still_allows_stores_into_already_allocated_chunks()
    {
        var ram = new GuestRam(1u << 20, quotaBytes: Chunk);
        ram.Write(0, 4, 1);
        ram.Write(Chunk, 4, 2);

        Assert.True(ram.Write(8, 4, 3));
        Assert.Equal(3u, ram.Read(8, 4));
    }

    [Fact]
    public void Write_bytes_over_the_quota_is_refused()
    {
        var ram = new GuestRam(1u << 20, quotaBytes: Chunk);

        Assert.False(ram.WriteBytes(Chunk - 2, new byte[8]));
    }

    [Fact]
    public void Word_write_across_a_chunk_boundary_lands_in_both_chunks()
    {
        var ram = new GuestRam(1u << 20);

        Assert.True(ram.Write(Chunk - 2, 4, 0xAABBCCDD));

        Assert.Equal(0xCCDDu, ram.Read(Chunk - 2, 2));
        Assert.Equal(0xAABBu, ram.Read(Chunk, 2));
        Assert.Equal(0xAABBCCDDu, ram.Read(Chunk - 2, 4));
        Assert.Equal([0, 1], ram.AllocatedChunks());
    }

    [Fact]
    public void Halfword_read_across_a_chunk_boundary_combines_both_chunks()
    {
        var ram = new GuestRam(1u << 20);
        ram.Write(Chunk - 1, 1, 0x12);
        ram.Write(Chunk, 1, 0x34);

        Assert.Equal(0x3412u, ram.Read(Chunk - 1, 2));
        Assert.Equal(0x00003412u, ram.Read(Chunk - 1, 4));
    }

    [Fact]
    public void Chunk_crossing_read_with_one_untouched_side_reads_zeros_there()
    {
        var ram = new GuestRam(1u << 20);
        ram.Write(Chunk - 4, 4, 0xFFFF_FFFF);

        Assert.Equal(0x0000_FFFFu, ram.Read(Chunk - 2, 4));
        Assert.Equal([0], ram.AllocatedChunks());
    }

    [Fact]
    public void Chunk_crossing_write_refused_by_the_quota_changes_nothing()
    {
        var ram = new GuestRam(1u << 20, quotaBytes: Chunk);
        ram.Write(Chunk - 4, 4, 0x11111111);

        Assert.False(ram.Write(Chunk - 2, 4, 0xAABBCCDD));

        Assert.Equal(0x11111111u, ram.Read(Chunk - 4, 4));
    }

    [Fact]
    public void Write_bytes_and_read_bytes_span_several_chunks()
    {
        var ram = new GuestRam(1u << 20);
        byte[] data = new byte[2 * Chunk + 10];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i * 7);
        }

        Assert.True(ram.WriteBytes(Chunk - 5, data));
        byte[] back = new byte[data.Length];
        ram.ReadBytes(Chunk - 5, back);

        Assert.Equal(data, back);
        Assert.Equal([0, 1, 2, 3], ram.AllocatedChunks());
    }

    [Fact]
    public void Clear_drops_every_chunk()
    {
        var ram = new GuestRam(1u << 20);
        ram.Write(0, 4, 1);
        ram.Write(4 * Chunk, 4, 1);

        ram.Clear();

        Assert.Equal(0L, ram.ResidentBytes);
        Assert.Empty(ram.AllocatedChunks());
        Assert.Equal(0u, ram.Read(0, 4));
    }

    [Fact]
    public void Contains_covers_exactly_base_to_base_plus_size()
    {
        var ram = new GuestRam(1u << 20, 0x8000_0000);

        Assert.True(ram.Contains(0x8000_0000));
        Assert.True(ram.Contains(0x800F_FFFF));
        Assert.False(ram.Contains(0x8010_0000));
        Assert.False(ram.Contains(0x7FFF_FFFF));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1000u)]
    [InlineData(Chunk + 1u)]
    public void Size_must_be_a_nonzero_multiple_of_the_chunk(uint size)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GuestRam(size));
    }

    [Fact]
    public void Ram_must_fit_below_4_GiB()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GuestRam(0x8000_0000, 0x8001_0000));
    }
}
