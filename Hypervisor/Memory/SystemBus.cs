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

    // Code pages are tracked as one bit per 4 KiB page, sixteen pages (64 KiB) per mask word.
    private const int CodeMaskShift = 16;
    private readonly ushort[] _codeMask;
    private readonly List<ICodeWriteObserver> _codeObservers = [];

    public SystemBus(GuestRam ram)
    {
        Ram = ram;
        _codeMask = new ushort[(ram.Size + (1u << CodeMaskShift) - 1) >> CodeMaskShift];
    }

    public GuestRam Ram { get; }

    /// <summary>Physical address of the HTIF tohost word, when the loaded ELF has one.</summary>
    public uint? ToHostAddress { get; set; }

    /// <summary>Called with the value a guest stored to tohost.</summary>
    public Action<uint>? ToHostWritten { get; set; }

    /// <summary>Binary patches in RAM (the patching profiler), or null.</summary>
    public PatchTable? Patches { get; private set; }

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
        int chunk = (int)(offset >> CodeMaskShift);
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
        return (_codeMask[offset >> CodeMaskShift] & (1 << (int)((offset >> 12) & 15))) != 0;
    }

    /// <summary>Forgets every code page (after the code caches were flushed).</summary>
    public void ClearCodePages() => Array.Clear(_codeMask);

    /// <summary>True if stores to this RAM page must take the slow path (code page, the tohost page, or patched).</summary>
    public bool NeedsSlowStore(uint physicalPage) =>
        IsCodePage(physicalPage) || (ToHostAddress is uint t && (t & ~0xFFFu) == (physicalPage & ~0xFFFu)) || NeedsSlowLoad(physicalPage);

    /// <summary>True if loads from this RAM page must take the slow path (it holds binary patches).</summary>
    public bool NeedsSlowLoad(uint physicalPage) => Patches is not null && Patches.IsPatchedPage(physicalPage);

    /// <summary>Installs the patch table; the caller flushes the MMU so no mapping bypasses it.</summary>
    public void UsePatches(PatchTable patches) => Patches = patches;

    /// <summary>
    /// Called by the MMU when code is fetched from a RAM page: with patching on, the page is
    /// scanned and its control-flow instructions patched before any engine decodes it.
    /// </summary>
    public void BeforeExecute(uint physicalAddress)
    {
        if (Patches is PatchTable table && IsRam(physicalAddress & ~0xFFFu, 4096) && table.Manage(physicalAddress))
        {
            uint page = physicalAddress & ~0xFFFu;
            for (uint word = page; word < page + 4096; word += 4)
            {
                RepatchWord(table, word);
            }
            PatchedPage?.Invoke(page);
        }
    }

    /// <summary>Raised after a page was scanned and patched (the MMU drops its data mappings of it).</summary>
    public event Action<uint>? PatchedPage;

    /// <summary>Patches the word at <paramref name="word"/> if RAM holds a patchable instruction there (RAM then holds the trap word).</summary>
    private void RepatchWord(PatchTable table, uint word)
    {
        uint offset = word - Ram.Base;
        uint current = Ram.Read(offset, 4);
        if (table.ShouldPatch(current) && Ram.Write(offset, 4, PatchTable.TrapWord))
        {
            table.SetOriginal(word, current);
            NotifyCodeObservers(word, 4);
        }
        else
        {
            table.Remove(word);
        }
    }

    /// <summary>Physical read; false means access fault.</summary>
    public bool Read(uint physicalAddress, int size, out uint value)
    {
        if (IsRam(physicalAddress, size))
        {
            value = Ram.Read(physicalAddress - Ram.Base, size);
            if (Patches is not null && Patches.IsPatchedPage(physicalAddress))
            {
                value = OverlayOriginals(physicalAddress, size, value);
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
                return r.Device.Read(offset, size, out value);
            }
        }
        value = 0;
        return false;
    }

    private void NotifyCodeObservers(uint physicalAddress, int size)
    {
        foreach (ICodeWriteObserver o in _codeObservers)
        {
            o.OnCodeWritten(physicalAddress, size);
        }
    }

    /// <summary>Replaces the bytes of patched words inside a loaded value with the original instruction's bytes.</summary>
    private uint OverlayOriginals(uint address, int size, uint value)
    {
        for (int i = 0; i < size; i++)
        {
            uint a = address + (uint)i;
            if (Patches!.TryGetOriginal(a & ~3u, out uint original))
            {
                uint b = (original >> (int)(8 * (a & 3))) & 0xFF;
                value = (value & ~(0xFFu << (8 * i))) | (b << (8 * i));
            }
        }
        return value;
    }

    /// <summary>A store to a patched page: the original words take the store, then every word it touched is patched again if it is (now) a control-flow instruction.</summary>
    private bool WritePatched(uint address, int size, uint value)
    {
        PatchTable table = Patches!;
        uint first = address & ~3u;
        uint last = (address + (uint)size - 1) & ~3u;
        for (uint w = first; w <= last; w += 4)
        {
            if (table.TryGetOriginal(w, out uint original))
            {
                Ram.Write(w - Ram.Base, 4, original);
            }
        }
        bool written = Ram.Write(address - Ram.Base, size, value);
        for (uint w = first; w <= last; w += 4)
        {
            if (IsRam(w, 4))
            {
                RepatchWord(table, w);
            }
        }
        if (written && (IsCodePage(address) || IsCodePage(address + (uint)size - 1)))
        {
            NotifyCodeObservers(address, size);
        }
        return written;
    }

    /// <summary>Physical write; false means access fault (unmapped, refused by a device, or over the RAM quota).</summary>
    public bool Write(uint physicalAddress, int size, uint value)
    {
        if (IsRam(physicalAddress, size))
        {
            uint offset = physicalAddress - Ram.Base;
            if (Patches is not null && Patches.IsPatchedPage(physicalAddress))
            {
                return WritePatched(physicalAddress, size, value);
            }
            if (!Ram.Write(offset, size, value))
            {
                return false;
            }
            if (IsCodePage(physicalAddress) || IsCodePage(physicalAddress + (uint)size - 1))
            {
                NotifyCodeObservers(physicalAddress, size);
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
