using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hypervisor.Cpu;

namespace Hypervisor.Memory;

/// <summary>One software-TLB entry: a guest virtual page mapped straight to the 4 KiB array of a RAM page.</summary>
/// <remarks>
/// The tag is the virtual page address; it is compared with <c>va &amp; (~0xFFF | (size - 1))</c>, so an
/// access that is misaligned for its size never hits and takes the slow path. An entry exists only
/// once translation, permission, A/D and PMP checks have passed for its access type.
/// </remarks>
public struct TlbEntry
{
    public const uint InvalidTag = uint.MaxValue;

    public uint Tag;
    public uint PhysicalPage;
    public ushort Asid;
    public bool Global;

    /// <summary>Cached from a 4 MiB superpage: a fence of any address in it drops this 4 KiB piece too.</summary>
    public bool Superpage;

    /// <summary>Host address of the page minus the virtual page: host address = Addend + va. RAM pages are pinned, so it stays valid.</summary>
    public nint Addend;
}

/// <summary>The hart's memory management unit: Sv32 translation, PMP, A/D updates and separate fetch/load/store TLBs.</summary>
/// <remarks>
/// The fast paths (inlined into the engines) are one tag compare and one unaligned load or store
/// into a RAM chunk. Everything else — page walks, MMIO, misaligned or page-crossing accesses,
/// stores to code pages, faults — is the slow path. A fault never throws: the access returns
/// false and <see cref="FaultCause"/>/<see cref="FaultValue"/> say which exception to raise.
/// TLB sets are kept per effective privilege (U, S, M), like QEMU's MMU indexes, so a trap or a
/// return does not flush them.
/// </remarks>
public sealed class Mmu
{
    public const int TlbSize = 256;
    private const int Modes = 3;

    // PTE bits.
    private const uint PteV = 1, PteR = 2, PteW = 4, PteX = 8, PteU = 16, PteG = 32, PteA = 64, PteD = 128;

    private readonly HartState _state;
    private readonly SystemBus _bus;
    private readonly GuestRam _ram;
    // Pinned, so translated code can address the current sets with plain pointers (no GC-tracked
    // byrefs to keep, no bounds checks); the pages entries map are kept alive beside it.
    private readonly TlbEntry[] _tlb = GC.AllocateArray<TlbEntry>(3 * Modes * TlbSize, pinned: true);
    private readonly byte[]?[] _tlbPages = new byte[]?[3 * Modes * TlbSize];
    private int _fetchBase;

    // Read by translated code, which inlines the TLB fast path: the first entry of the load and
    // store sets of the current data privilege.
    internal int LoadBase;
    internal int StoreBase;

    /// <summary>Addresses of the first entry of the current load and store sets (the TLB array is pinned).</summary>
    internal nint LoadSetAddress;
    internal nint StoreSetAddress;
    private Privilege _dataPrivilege;

    public Mmu(HartState state, SystemBus bus)
    {
        _state = state;
        _bus = bus;
        _ram = bus.Ram;
        Pmp = new Pmp(state);
        _bus.CodePageMarked += FlushStoresToPhysicalPage;
        _bus.PatchedPage += FlushDataMappingsOfPhysicalPage;
        _ram.ChunkAllocated += DropZeroPageMappings;
        FlushAll();
        UpdateModes();
    }

    public Pmp Pmp { get; }

    public SystemBus Bus => _bus;

    /// <summary>The exception the last failed access must raise.</summary>
    public ExceptionCause FaultCause { get; private set; }

    /// <summary>The tval of the last failed access (the faulting virtual address).</summary>
    public uint FaultValue { get; private set; }

    /// <summary>TLB misses served by the slow path (statistics).</summary>
    public long TlbMisses { get; private set; }

    /// <summary>Page-table walks performed.</summary>
    public long PageWalks { get; private set; }

    /// <summary>Bumped by every TLB flush or fence: cached virtual-to-physical knowledge (block chains) older than it is stale.</summary>
    public long FlushEpoch { get; private set; }


    /// <summary>Re-selects the TLB sets after the privilege or mstatus.MPRV/MPP changed.</summary>
    public void UpdateModes()
    {
        Privilege p = _state.Privilege;
        _dataPrivilege = p == Privilege.Machine && (_state.Mstatus & Cpu.Mstatus.Mprv) != 0
            ? (Privilege)((_state.Mstatus >> Cpu.Mstatus.MppShift) & 3)
            : p;
        _fetchBase = (0 * Modes + ModeIndex(p)) * TlbSize;
        LoadBase = (1 * Modes + ModeIndex(_dataPrivilege)) * TlbSize;
        StoreBase = (2 * Modes + ModeIndex(_dataPrivilege)) * TlbSize;
        LoadSetAddress = EntryAddress(LoadBase);
        StoreSetAddress = EntryAddress(StoreBase);
    }

    private unsafe nint EntryAddress(int index) => (nint)Unsafe.AsPointer(ref _tlb[index]);

    /// <summary>
    /// The TLB slot of <paramref name="va"/>: the page number's low byte folded with the next one,
    /// so pages 1 MiB apart (a program's .data and the start of a large .bss, say) do not evict
    /// each other on every access, as they did with the low byte alone. Translated code inlines
    /// the same computation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TlbIndex(uint va) => (int)(((va >> 12) ^ (va >> 20)) & (TlbSize - 1));

    private static int ModeIndex(Privilege p) => p == Privilege.Machine ? 2 : (int)p;

    // ---------------------------------------------------------------- fast paths
    // Through the current sets' addresses (the TLB array is pinned): no bounds check per access.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe bool Load32(uint va, out uint value)
    {
        TlbEntry* e = (TlbEntry*)LoadSetAddress + TlbIndex(va);
        if (e->Tag == (va & 0xFFFFF003))
        {
            value = Unsafe.ReadUnaligned<uint>((void*)(e->Addend + (nint)va));
            return true;
        }
        return LoadSlow(va, 4, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe bool Load16(uint va, out uint value)
    {
        TlbEntry* e = (TlbEntry*)LoadSetAddress + TlbIndex(va);
        if (e->Tag == (va & 0xFFFFF001))
        {
            value = Unsafe.ReadUnaligned<ushort>((void*)(e->Addend + (nint)va));
            return true;
        }
        return LoadSlow(va, 2, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe bool Load8(uint va, out uint value)
    {
        TlbEntry* e = (TlbEntry*)LoadSetAddress + TlbIndex(va);
        if (e->Tag == (va & 0xFFFFF000))
        {
            value = *(byte*)(e->Addend + (nint)va);
            return true;
        }
        return LoadSlow(va, 1, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe bool Store32(uint va, uint value)
    {
        TlbEntry* e = (TlbEntry*)StoreSetAddress + TlbIndex(va);
        if (e->Tag == (va & 0xFFFFF003))
        {
            Unsafe.WriteUnaligned((void*)(e->Addend + (nint)va), value);
            return true;
        }
        return StoreSlow(va, 4, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe bool Store16(uint va, uint value)
    {
        TlbEntry* e = (TlbEntry*)StoreSetAddress + TlbIndex(va);
        if (e->Tag == (va & 0xFFFFF001))
        {
            Unsafe.WriteUnaligned((void*)(e->Addend + (nint)va), (ushort)value);
            return true;
        }
        return StoreSlow(va, 2, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe bool Store8(uint va, uint value)
    {
        TlbEntry* e = (TlbEntry*)StoreSetAddress + TlbIndex(va);
        if (e->Tag == (va & 0xFFFFF000))
        {
            *(byte*)(e->Addend + (nint)va) = (byte)value;
            return true;
        }
        return StoreSlow(va, 1, value);
    }

    /// <summary>Translates an instruction fetch; on success <paramref name="physicalAddress"/> is in RAM.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TranslateFetch(uint va, out uint physicalAddress)
    {
        ref TlbEntry e = ref _tlb[_fetchBase + TlbIndex(va)];
        if (e.Tag == (va & 0xFFFFF000))
        {
            physicalAddress = e.PhysicalPage | (va & 0xFFF);
            return true;
        }
        return TranslateFetchSlow(va, out physicalAddress);
    }

    /// <summary>
    /// True when the fetch TLB maps the page of <paramref name="va"/> (just after a successful
    /// <see cref="TranslateFetch"/>: the page is RAM, non-zero and executable in every word at the
    /// current privilege). When false, PMP may split the page, so each fetch must be checked alone.
    /// </summary>
    public bool FetchPageMapped(uint va) => _tlb[_fetchBase + TlbIndex(va)].Tag == (va & 0xFFFFF000);

    /// <summary>Fetches the instruction word at <paramref name="va"/> (translation, PMP, RAM only).</summary>
    public bool FetchWord(uint va, out uint word)
    {
        if (!TranslateFetch(va, out uint pa))
        {
            word = 0;
            return false;
        }
        word = _ram.Read(pa - _ram.Base, 4);
        return true;
    }

    // ---------------------------------------------------------------- atomics

    /// <summary>
    /// Translates an AMO/SC address with store permission (AMOs fault as stores) and checks
    /// alignment; the access itself then goes through <see cref="PhysicalRead"/>/<see cref="PhysicalWrite"/>.
    /// </summary>
    public bool TranslateAtomic(uint va, bool isLoadReserved, out uint physicalAddress)
    {
        AccessType type = isLoadReserved ? AccessType.Load : AccessType.Store;
        if ((va & 3) != 0)
        {
            physicalAddress = 0;
            return Fail(AccessFaults.Misaligned(type), va);
        }
        if (!Translate(va, type, _dataPrivilege, out ulong pa))
        {
            physicalAddress = 0;
            return false;
        }
        // Atomics work on RAM only (as on QEMU, where they need a host-backed page).
        if (pa > uint.MaxValue || !_bus.IsRam((uint)pa, 4) || !Pmp.Allows(pa, 4, type, _dataPrivilege) ||
            (!isLoadReserved && !Pmp.Allows(pa, 4, AccessType.Load, _dataPrivilege)))
        {
            physicalAddress = 0;
            return Fail(AccessFaults.AccessFault(type), va);
        }
        physicalAddress = (uint)pa;
        return true;
    }

    /// <summary>A physical read for an already translated atomic; faults with the given cause on failure.</summary>
    public bool PhysicalRead(uint physicalAddress, uint va, AccessType faultAs, out uint value)
    {
        if (_bus.Read(physicalAddress, 4, out value))
        {
            return true;
        }
        return Fail(AccessFaults.AccessFault(faultAs), va);
    }

    public bool PhysicalWrite(uint physicalAddress, uint va, uint value)
    {
        if (_bus.Write(physicalAddress, 4, value))
        {
            return true;
        }
        return Fail(ExceptionCause.StoreAccessFault, va);
    }

    // ---------------------------------------------------------------- slow paths

    private bool Fail(ExceptionCause cause, uint tval)
    {
        FaultCause = cause;
        FaultValue = tval;
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal bool LoadSlow(uint va, int size, out uint value)
    {
        TlbMisses++;
        if ((va & 0xFFF) + (uint)size > 4096)
        {
            // Crosses a page: byte by byte, each byte translated on its own.
            value = 0;
            for (int i = 0; i < size; i++)
            {
                if (!LoadSlow(va + (uint)i, 1, out uint b))
                {
                    return false;
                }
                value |= b << (8 * i);
            }
            return true;
        }
        if (!Translate(va, AccessType.Load, _dataPrivilege, out ulong pa))
        {
            value = 0;
            return false;
        }
        if (pa > uint.MaxValue || !Pmp.Allows(pa, size, AccessType.Load, _dataPrivilege) || !_bus.Read((uint)pa, size, out value))
        {
            value = 0;
            return Fail(ExceptionCause.LoadAccessFault, va);
        }
        uint p = (uint)pa;
        if (_bus.IsRam(p & ~0xFFFu, 4096) && !_bus.NeedsSlowLoad(p & ~0xFFFu) &&
            Pmp.PagePermissions(p & ~0xFFFu, _dataPrivilege) is byte readable && (readable & Pmp.R) != 0)
        {
            uint offset = (p & ~0xFFFu) - _ram.Base;
            byte[] chunk = _ram.ChunkForRead(offset);
            if (GuestRam.IsZeroChunk(chunk))
            {
                // Untouched RAM reads from the shared zero page; the first store to it allocates
                // a page of its own, and DropZeroPageMappings then drops this mapping.
                _zeroPageMappings++;
            }
            Install(LoadBase + TlbIndex(va), va, p, chunk, offset);
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal bool StoreSlow(uint va, int size, uint value)
    {
        TlbMisses++;
        if ((va & 0xFFF) + (uint)size > 4096)
        {
            // Crosses a page: check both pages can be written before writing any byte.
            uint second = (va + (uint)size - 1) & ~0xFFFu;
            if (!Translate(va, AccessType.Store, _dataPrivilege, out ulong pa1) ||
                !Translate(second, AccessType.Store, _dataPrivilege, out ulong pa2))
            {
                return false;
            }
            for (int i = 0; i < size; i++)
            {
                uint a = va + (uint)i;
                ulong pa = (a & ~0xFFFu) == second ? pa2 + (a - second) : pa1 + (uint)i;
                if (pa > uint.MaxValue || !Pmp.Allows(pa, 1, AccessType.Store, _dataPrivilege) || !_bus.Write((uint)pa, 1, value >> (8 * i)))
                {
                    return Fail(ExceptionCause.StoreAccessFault, a);
                }
            }
            return true;
        }
        if (!Translate(va, AccessType.Store, _dataPrivilege, out ulong phys))
        {
            return false;
        }
        if (phys > uint.MaxValue || !Pmp.Allows(phys, size, AccessType.Store, _dataPrivilege) || !_bus.Write((uint)phys, size, value))
        {
            return Fail(ExceptionCause.StoreAccessFault, va);
        }
        uint page = (uint)phys & ~0xFFFu;
        if (_bus.IsRam(page, 4096) && !_bus.NeedsSlowStore(page) && Pmp.PagePermissions(page, _dataPrivilege) is byte writable && (writable & Pmp.W) != 0)
        {
            uint offset = page - _ram.Base;
            byte[]? chunk = _ram.ChunkForWrite(offset);
            if (chunk is not null)
            {
                Install(StoreBase + TlbIndex(va), va, page, chunk, offset);
            }
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TranslateFetchSlow(uint va, out uint physicalAddress)
    {
        TlbMisses++;
        Privilege p = _state.Privilege;
        if (!Translate(va, AccessType.Fetch, p, out ulong pa))
        {
            physicalAddress = 0;
            return false;
        }
        if (pa > uint.MaxValue || !Pmp.Allows(pa, 4, AccessType.Fetch, p) || !_bus.IsRam((uint)pa, 4))
        {
            physicalAddress = 0;
            return Fail(ExceptionCause.InstructionAccessFault, va);
        }
        physicalAddress = (uint)pa;
        uint page = physicalAddress & ~0xFFFu;
        _bus.BeforeExecute(page);
        if (_bus.IsRam(page, 4096) && Pmp.PagePermissions(page, p) is byte executable && (executable & Pmp.X) != 0)
        {
            uint offset = page - _ram.Base;
            byte[] chunk = _ram.ChunkForRead(offset);
            if (!GuestRam.IsZeroChunk(chunk))
            {
                Install(_fetchBase + TlbIndex(va), va, page, chunk, offset);
            }
        }
        return true;
    }

    private void Install(int index, uint va, uint physicalAddress, byte[] chunk, uint ramOffset)
    {
        ref TlbEntry e = ref _tlb[index];
        e.Tag = va & 0xFFFFF000;
        e.PhysicalPage = physicalAddress & 0xFFFFF000;
        _tlbPages[index] = chunk;
        e.Addend = HostAddress(chunk) - (nint)(va & 0xFFFFF000);
        e.Asid = (ushort)((_state.Satp >> 22) & 0x1FF);
        e.Global = _lastWalkGlobal;
        e.Superpage = _lastWalkSuperpage;
    }

    private static unsafe nint HostAddress(byte[] chunk) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(chunk));

    private bool _lastWalkGlobal;
    private bool _lastWalkSuperpage;

    /// <summary>True when accesses at <paramref name="privilege"/> go through Sv32.</summary>
    public bool Translates(Privilege privilege) => privilege != Privilege.Machine && (_state.Satp & 0x8000_0000) != 0;

    /// <summary>The privilege explicit loads and stores use now (MPRV applied).</summary>
    public Privilege DataPrivilege => _dataPrivilege;

    /// <summary>Translates <paramref name="va"/> for an access; sets the fault on failure (page fault or access fault in the walk).</summary>
    public bool Translate(uint va, AccessType type, Privilege privilege, out ulong physicalAddress)
    {
        _lastWalkGlobal = false;
        _lastWalkSuperpage = false;
        if (!Translates(privilege))
        {
            physicalAddress = va;
            return true;
        }
        PageWalks++;
        uint satp = _state.Satp;
        ulong table = (ulong)(satp & 0x3F_FFFF) << 12;
        int level = 1;
        uint pte;
        ulong pteAddress;
        while (true)
        {
            pteAddress = table + (((va >> (12 + 10 * level)) & 0x3FF) * 4);
            if (pteAddress > uint.MaxValue - 3 || !Pmp.Allows(pteAddress, 4, AccessType.Load, Privilege.Supervisor) ||
                !_bus.Read((uint)pteAddress, 4, out pte))
            {
                physicalAddress = 0;
                return Fail(AccessFaults.AccessFault(type), va);
            }
            if ((pte & PteV) == 0 || ((pte & PteR) == 0 && (pte & PteW) != 0))
            {
                break;
            }
            if ((pte & (PteR | PteX)) != 0)
            {
                return Leaf(va, type, privilege, pte, pteAddress, level, out physicalAddress);
            }
            if (--level < 0)
            {
                break;
            }
            table = (ulong)(pte >> 10) << 12;
        }
        physicalAddress = 0;
        return Fail(AccessFaults.PageFault(type), va);
    }

    private bool Leaf(uint va, AccessType type, Privilege privilege, uint pte, ulong pteAddress, int level, out ulong physicalAddress)
    {
        physicalAddress = 0;
        uint mstatus = _state.Mstatus;
        bool userPage = (pte & PteU) != 0;
        if (privilege == Privilege.User && !userPage)
        {
            return Fail(AccessFaults.PageFault(type), va);
        }
        if (privilege == Privilege.Supervisor && userPage && (type == AccessType.Fetch || (mstatus & Cpu.Mstatus.Sum) == 0))
        {
            return Fail(AccessFaults.PageFault(type), va);
        }
        bool allowed = type switch
        {
            AccessType.Fetch => (pte & PteX) != 0,
            AccessType.Load => (pte & PteR) != 0 || ((mstatus & Cpu.Mstatus.Mxr) != 0 && (pte & PteX) != 0),
            _ => (pte & PteW) != 0,
        };
        if (!allowed || (level == 1 && ((pte >> 10) & 0x3FF) != 0))
        {
            return Fail(AccessFaults.PageFault(type), va);
        }
        uint wanted = PteA | (type == AccessType.Store ? PteD : 0);
        if ((pte & wanted) != wanted)
        {
            // Hardware A/D update, as QEMU does.
            pte |= wanted;
            if (!Pmp.Allows(pteAddress, 4, AccessType.Store, Privilege.Supervisor) || !_bus.Write((uint)pteAddress, 4, pte))
            {
                return Fail(AccessFaults.AccessFault(type), va);
            }
        }
        ulong ppn = pte >> 10;
        physicalAddress = level == 1
            ? ((ppn >> 10) << 22) | (va & 0x3F_FFFF)
            : (ppn << 12) | (va & 0xFFF);
        _lastWalkGlobal = (pte & PteG) != 0;
        _lastWalkSuperpage = level == 1;
        return true;
    }

    // ---------------------------------------------------------------- flushes

    /// <summary>Drops every TLB entry (satp write, SUM/MXR/MPRV change, PMP write).</summary>
    public void FlushAll()
    {
        FlushEpoch++;
        for (int i = 0; i < _tlb.Length; i++)
        {
            _tlb[i].Tag = TlbEntry.InvalidTag;
            _tlbPages[i] = null;
        }
    }

    /// <summary>SFENCE.VMA: all entries, one page, one ASID, or one page of one ASID; global mappings survive an ASID flush.</summary>
    public void Fence(uint? va, ushort? asid)
    {
        FlushEpoch++;
        if (va is null && asid is null)
        {
            FlushAll();
            return;
        }
        uint page = (va ?? 0) & 0xFFFFF000;
        for (int i = 0; i < _tlb.Length; i++)
        {
            ref TlbEntry e = ref _tlb[i];
            if (e.Tag == TlbEntry.InvalidTag)
            {
                continue;
            }
            bool pageMatch = va is null || e.Tag == page || (e.Superpage && (e.Tag >> 22) == (page >> 22));
            bool asidMatch = asid is null || (!e.Global && e.Asid == asid.Value);
            if (pageMatch && asidMatch)
            {
                e.Tag = TlbEntry.InvalidTag;
                _tlbPages[i] = null;
            }
        }
    }

    private void FlushStoresToPhysicalPage(uint physicalPage)
    {
        for (int i = 2 * Modes * TlbSize; i < _tlb.Length; i++)
        {
            if (_tlb[i].Tag != TlbEntry.InvalidTag && _tlb[i].PhysicalPage == physicalPage)
            {
                _tlb[i].Tag = TlbEntry.InvalidTag;
                _tlbPages[i] = null;
            }
        }
    }

    /// <summary>Load mappings of untouched RAM to the shared zero page (none: nothing to drop when a page is allocated).</summary>
    private int _zeroPageMappings;

    /// <summary>A page of RAM was allocated (its first store; -1: all RAM dropped): loads must stop reading it from the zero page.</summary>
    private void DropZeroPageMappings(int chunk)
    {
        if (chunk < 0)
        {
            FlushAll();
            return;
        }
        if (_zeroPageMappings == 0)
        {
            return;
        }
        uint physicalPage = _ram.Base + ((uint)chunk << GuestRam.ChunkShift);
        int left = 0;
        for (int i = Modes * TlbSize; i < 2 * Modes * TlbSize; i++)
        {
            ref TlbEntry e = ref _tlb[i];
            if (e.Tag != TlbEntry.InvalidTag && _tlbPages[i] is byte[] m && GuestRam.IsZeroChunk(m))
            {
                if (e.PhysicalPage == physicalPage)
                {
                    e.Tag = TlbEntry.InvalidTag;
                    _tlbPages[i] = null;
                }
                else
                {
                    left++;
                }
            }
        }
        _zeroPageMappings = left;
    }

    private void FlushDataMappingsOfPhysicalPage(uint physicalPage)
    {
        for (int i = Modes * TlbSize; i < _tlb.Length; i++)
        {
            if (_tlb[i].Tag != TlbEntry.InvalidTag && _tlb[i].PhysicalPage == physicalPage)
            {
                _tlb[i].Tag = TlbEntry.InvalidTag;
                _tlbPages[i] = null;
            }
        }
    }

}
