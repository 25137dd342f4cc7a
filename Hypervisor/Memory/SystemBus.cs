namespace Hypervisor.Memory;

/// <summary>Receives stores that land on pages holding decoded or translated guest code.</summary>
public interface ICodeWriteObserver
{
    /// <summary>Bytes [<paramref name="physicalAddress"/>, +<paramref name="size"/>) of a code page were just written.</summary>
    void OnCodeWritten(uint physicalAddress, int size);
}

/// <summary>The guest-physical address space of one VM: RAM plus memory-mapped devices.</summary>
/// <remarks>
/// Everything that stores to guest memory through the slow path comes here, so this is where
/// self-modifying code is caught: pages marked as code forward their stores to the code
/// observers (the interpreter's pre-decode cache, the translation cache). The MMU never caches a
/// write mapping to a code page or the HTIF tohost page, so no store can bypass this check.
/// </remarks>
public sealed class SystemBus
{
    private readonly record struct Region(uint Base, uint Size, IMmioDevice Device);

    private Region[] _regions = [];
    private readonly ushort[] _codeMask;
    private readonly List<ICodeWriteObserver> _codeObservers = [];

    public SystemBus(GuestRam ram)
    {
        Ram = ram;
        _codeMask = new ushort[ram.Size >> GuestRam.ChunkShift];
    }

    public GuestRam Ram { get; }

    /// <summary>Physical address of the HTIF tohost word, when the loaded ELF has one.</summary>
    public uint? ToHostAddress { get; set; }

    /// <summary>Called with the value a guest stored to tohost.</summary>
    public Action<uint>? ToHostWritten { get; set; }

    /// <summary>Raised when a RAM page becomes a code page (argument: its physical page address).</summary>
    public event Action<uint>? CodePageMarked;

    /// <summary>The devices, in address order.</summary>
    public IEnumerable<(uint Base, IMmioDevice Device)> Devices => _regions.Select(r => (r.Base, r.Device));

    /// <summary>Maps a device at <paramref name="baseAddress"/>; overlapping RAM or another device is a configuration error.</summary>
    public void Map(uint baseAddress, IMmioDevice device)
    {
        ulong end = (ulong)baseAddress + device.Size;
        foreach (Region r in _regions)
        {
            if (baseAddress < (ulong)r.Base + r.Size && r.Base < end)
            {
                throw new ArgumentException($"{device.Name} at 0x{baseAddress:x8} overlaps {r.Device.Name}");
            }
        }
        if (baseAddress < (ulong)Ram.Base + Ram.Size && Ram.Base < end)
        {
            throw new ArgumentException($"{device.Name} at 0x{baseAddress:x8} overlaps RAM");
        }
        _regions = [.. _regions, new Region(baseAddress, device.Size, device)];
        Array.Sort(_regions, (a, b) => a.Base.CompareTo(b.Base));
    }

    public void AddCodeObserver(ICodeWriteObserver observer) => _codeObservers.Add(observer);

    public void RemoveCodeObserver(ICodeWriteObserver observer) => _codeObservers.Remove(observer);

    /// <summary>True if the whole access [pa, pa+size) is RAM.</summary>
    public bool IsRam(uint physicalAddress, int size) =>
        Ram.Contains(physicalAddress) && physicalAddress - Ram.Base + (uint)size <= Ram.Size;

    /// <summary>Marks the RAM page holding <paramref name="physicalAddress"/> as holding code.</summary>
    public void MarkCodePage(uint physicalAddress)
    {
        uint offset = physicalAddress - Ram.Base;
        int chunk = (int)(offset >> GuestRam.ChunkShift);
        ushort bit = (ushort)(1 << (int)((offset >> 12) & 15));
        if ((_codeMask[chunk] & bit) == 0)
        {
            _codeMask[chunk] |= bit;
            CodePageMarked?.Invoke(physicalAddress & ~0xFFFu);
        }
    }

    /// <summary>True if the RAM page holding <paramref name="physicalAddress"/> holds code.</summary>
    public bool IsCodePage(uint physicalAddress)
    {
        uint offset = physicalAddress - Ram.Base;
        if (offset >= Ram.Size)
        {
            return false;
        }
        return (_codeMask[offset >> GuestRam.ChunkShift] & (1 << (int)((offset >> 12) & 15))) != 0;
    }

    /// <summary>Forgets every code page (after the code caches were flushed).</summary>
    public void ClearCodePages() => Array.Clear(_codeMask);

    /// <summary>True if stores to this RAM page must take the slow path (code page or the tohost page).</summary>
    public bool NeedsSlowStore(uint physicalPage) =>
        IsCodePage(physicalPage) || (ToHostAddress is uint t && (t & ~0xFFFu) == (physicalPage & ~0xFFFu));

    /// <summary>Physical read; false means access fault.</summary>
    public bool Read(uint physicalAddress, int size, out uint value)
    {
        if (IsRam(physicalAddress, size))
        {
            value = Ram.Read(physicalAddress - Ram.Base, size);
            return true;
        }
        foreach (Region r in _regions)
        {
            uint offset = physicalAddress - r.Base;
            if (offset < r.Size)
            {
                if (offset + (uint)size > r.Size)
                {
                    break;
                }
                return r.Device.Read(offset, size, out value);
            }
        }
        value = 0;
        return false;
    }

    /// <summary>Physical write; false means access fault (unmapped, refused by a device, or over the RAM quota).</summary>
    public bool Write(uint physicalAddress, int size, uint value)
    {
        if (IsRam(physicalAddress, size))
        {
            uint offset = physicalAddress - Ram.Base;
            if (!Ram.Write(offset, size, value))
            {
                return false;
            }
            if (IsCodePage(physicalAddress) || IsCodePage(physicalAddress + (uint)size - 1))
            {
                foreach (ICodeWriteObserver o in _codeObservers)
                {
                    o.OnCodeWritten(physicalAddress, size);
                }
            }
            if (ToHostAddress is uint toHost && physicalAddress <= toHost && toHost < physicalAddress + (uint)size)
            {
                ToHostWritten?.Invoke(Ram.Read(toHost - Ram.Base, 4));
            }
            return true;
        }
        foreach (Region r in _regions)
        {
            uint offset = physicalAddress - r.Base;
            if (offset < r.Size)
            {
                if (offset + (uint)size > r.Size)
                {
                    break;
                }
                return r.Device.Write(offset, size, value);
            }
        }
        return false;
    }
}
