using System.Buffers.Binary;

namespace Hypervisor.Memory;

/// <summary>Guest RAM, allocated lazily in 64 KiB chunks on the first store, within a resident-memory quota.</summary>
/// <remarks>
/// Until a chunk is written it reads as zeros from one shared, never-written zero chunk, so a
/// VM's nominal memory costs nothing until used. When a chunk is allocated, <see cref="ChunkAllocated"/>
/// fires so that caches that pointed at the zero chunk (the hart's TLB) drop those entries.
/// </remarks>
public sealed class GuestRam
{
    public const int ChunkShift = 16;
    public const int ChunkSize = 1 << ChunkShift;
    public const uint DefaultBase = 0x8000_0000;

    private static readonly byte[] ZeroChunk = new byte[ChunkSize];

    private readonly byte[]?[] _chunks;

    public GuestRam(uint size, uint baseAddress = DefaultBase, long quotaBytes = long.MaxValue)
    {
        if (size == 0 || size % ChunkSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"RAM size must be a non-zero multiple of {ChunkSize / 1024} KiB");
        }
        if ((ulong)baseAddress + size > 0x1_0000_0000UL)
        {
            throw new ArgumentOutOfRangeException(nameof(size), "RAM must fit below 4 GiB");
        }
        Base = baseAddress;
        Size = size;
        QuotaBytes = quotaBytes;
        _chunks = new byte[]?[size >> ChunkShift];
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
    public byte[] ChunkForRead(uint offset) => _chunks[offset >> ChunkShift] ?? ZeroChunk;

    /// <summary>True if the chunk is the shared zero chunk (never store into it).</summary>
    public static bool IsZeroChunk(byte[] chunk) => ReferenceEquals(chunk, ZeroChunk);

    /// <summary>The chunk holding RAM offset <paramref name="offset"/>, allocated if needed; null when over quota.</summary>
    public byte[]? ChunkForWrite(uint offset)
    {
        int index = (int)(offset >> ChunkShift);
        byte[]? chunk = _chunks[index];
        if (chunk is not null)
        {
            return chunk;
        }
        if (ResidentBytes + ChunkSize > QuotaBytes)
        {
            QuotaRefusals++;
            return null;
        }
        chunk = new byte[ChunkSize];
        _chunks[index] = chunk;
        ResidentBytes += ChunkSize;
        ChunkAllocated?.Invoke(index);
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
        for (int i = 0; i < _chunks.Length; i++)
        {
            if (_chunks[i] is not null)
            {
                yield return i;
            }
        }
    }

    /// <summary>Drops every chunk (power-on reset).</summary>
    public void Clear()
    {
        Array.Clear(_chunks);
        ResidentBytes = 0;
        ChunkAllocated?.Invoke(-1);
    }
}
