using System.Buffers.Binary;

namespace Hypervisor.Memory;

/// <summary>Guest RAM, allocated lazily in 4 KiB pages ("chunks") on the first store, within a resident-memory quota.</summary>
/// <remarks>
/// Until a page is written it reads as zeros from one shared, never-written zero page, so a VM's
/// nominal memory costs nothing until used, and an idle VM costs only the pages it touched. Pages
/// hang off a two-level table (1 MiB regions of 256 pages), so even the table is allocated only
/// where memory is used. The MMU maps loads from untouched pages to the zero page and drops those
/// mappings when <see cref="ChunkAllocated"/> says the page got one of its own.
/// </remarks>
public sealed class GuestRam
{
    public const int ChunkShift = 12;
    public const int ChunkSize = 1 << ChunkShift;
    public const uint DefaultBase = 0x8000_0000;

    private const int RegionShift = 20;
    private const int PagesPerRegion = 1 << (RegionShift - ChunkShift);

    private static readonly byte[] ZeroChunk = GC.AllocateArray<byte>(ChunkSize, pinned: true);

    private readonly byte[]?[]?[] _regions;

    public GuestRam(uint size, uint baseAddress = DefaultBase, long quotaBytes = long.MaxValue)
    {
        if (size == 0 || size % ChunkSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"RAM size must be a non-zero multiple of {ChunkSize / 1024} KiB");
        }
        _regions = new byte[]?[]?[(size + (1u << RegionShift) - 1) >> RegionShift];
        if ((ulong)baseAddress + size > 0x1_0000_0000UL)
        {
            throw new ArgumentOutOfRangeException(nameof(size), "RAM must fit below 4 GiB");
        }
        Base = baseAddress;
        Size = size;
        QuotaBytes = quotaBytes;
    }

    public uint Base { get; }

    public uint Size { get; }

    /// <summary>Most bytes this RAM may allocate; a store that would need more fails.</summary>
    public long QuotaBytes { get; set; }

    /// <summary>Bytes actually allocated.</summary>
    public long ResidentBytes { get; private set; }

    /// <summary>Stores refused because the quota was reached.</summary>
    public long QuotaRefusals { get; private set; }

    /// <summary>Raised after a chunk has been allocated (argument: chunk index).</summary>
    public event Action<int>? ChunkAllocated;

    /// <summary>True when <paramref name="physicalAddress"/> lies in RAM.</summary>
    public bool Contains(uint physicalAddress) => physicalAddress - Base < Size;

    /// <summary>The chunk holding RAM offset <paramref name="offset"/>, for reading (the zero chunk if untouched).</summary>
    public byte[] ChunkForRead(uint offset) => _regions[offset >> RegionShift]?[(offset >> ChunkShift) & (PagesPerRegion - 1)] ?? ZeroChunk;

    /// <summary>True if the chunk is the shared zero chunk (never store into it).</summary>
    public static bool IsZeroChunk(byte[] chunk) => ReferenceEquals(chunk, ZeroChunk);

    /// <summary>The chunk holding RAM offset <paramref name="offset"/>, allocated if needed; null when over quota.</summary>
    public byte[]? ChunkForWrite(uint offset)
    {
        byte[]?[] region = _regions[offset >> RegionShift] ??= new byte[]?[PagesPerRegion];
        int slot = (int)((offset >> ChunkShift) & (PagesPerRegion - 1));
        byte[]? chunk = region[slot];
        if (chunk is not null)
        {
            return chunk;
        }
        if (ResidentBytes + ChunkSize > QuotaBytes)
        {
            QuotaRefusals++;
            return null;
        }
        chunk = GC.AllocateArray<byte>(ChunkSize, pinned: true); // pinned: TLB entries hold its address
        region[slot] = chunk;
        ResidentBytes += ChunkSize;
        ChunkAllocated?.Invoke((int)(offset >> ChunkShift));
        return chunk;
    }

    /// <summary>Reads 1, 2 or 4 bytes at a RAM offset (any alignment; little-endian).</summary>
    public uint Read(uint offset, int size)
    {
        int inChunk = (int)(offset & (ChunkSize - 1));
        if (inChunk + size <= ChunkSize)
        {
            byte[] c = ChunkForRead(offset);
            return size switch
            {
                1 => c[inChunk],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(c.AsSpan(inChunk)),
                _ => BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(inChunk)),
            };
        }
        uint value = 0;
        for (int i = 0; i < size; i++)
        {
            value |= (uint)ChunkForRead(offset + (uint)i)[(offset + (uint)i) & (ChunkSize - 1)] << (8 * i);
        }
        return value;
    }

    /// <summary>Writes 1, 2 or 4 bytes at a RAM offset; false when the quota refuses a new chunk.</summary>
    public bool Write(uint offset, int size, uint value)
    {
        int inChunk = (int)(offset & (ChunkSize - 1));
        if (inChunk + size <= ChunkSize)
        {
            byte[]? c = ChunkForWrite(offset);
            if (c is null)
            {
                return false;
            }
            switch (size)
            {
                case 1: c[inChunk] = (byte)value; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(inChunk), (ushort)value); break;
                default: BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(inChunk), value); break;
            }
            return true;
        }
        // Crossing a chunk boundary: make sure both chunks exist before changing anything.
        if (ChunkForWrite(offset) is null || ChunkForWrite(offset + (uint)size - 1) is null)
        {
            return false;
        }
        for (int i = 0; i < size; i++)
        {
            uint o = offset + (uint)i;
            ChunkForWrite(o)![o & (ChunkSize - 1)] = (byte)(value >> (8 * i));
        }
        return true;
    }

    /// <summary>Copies bytes in (used by the loader); false if the quota refuses.</summary>
    public bool WriteBytes(uint offset, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            byte[]? c = ChunkForWrite(offset);
            if (c is null)
            {
                return false;
            }
            int inChunk = (int)(offset & (ChunkSize - 1));
            int n = Math.Min(data.Length, ChunkSize - inChunk);
            data[..n].CopyTo(c.AsSpan(inChunk));
            data = data[n..];
            offset += (uint)n;
        }
        return true;
    }

    /// <summary>Copies bytes out (zeros where untouched).</summary>
    public void ReadBytes(uint offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            byte[] c = ChunkForRead(offset);
            int inChunk = (int)(offset & (ChunkSize - 1));
            int n = Math.Min(destination.Length, ChunkSize - inChunk);
            c.AsSpan(inChunk, n).CopyTo(destination);
            destination = destination[n..];
            offset += (uint)n;
        }
    }

    /// <summary>Indices of the allocated chunks, in order (for snapshots and resident-memory reports).</summary>
    public IEnumerable<int> AllocatedChunks()
    {
        for (int r = 0; r < _regions.Length; r++)
        {
            if (_regions[r] is byte[]?[] region)
            {
                for (int i = 0; i < PagesPerRegion; i++)
                {
                    if (region[i] is not null)
                    {
                        yield return r * PagesPerRegion + i;
                    }
                }
            }
        }
    }

    /// <summary>Drops every chunk (power-on reset).</summary>
    public void Clear()
    {
        Array.Clear(_regions);
        ResidentBytes = 0;
        ChunkAllocated?.Invoke(-1);
    }
}
