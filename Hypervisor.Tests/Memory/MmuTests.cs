using Hypervisor.Cpu;
using Hypervisor.Memory;

namespace Hypervisor.Tests.Memory;

public class MmuTests
{
    private const uint RamBase = 0x8000_0000;
    private const uint RamSize = 16u << 20;

    // PTE bits (privileged spec 4.3.1).
    private const uint V = 1, R = 2, W = 4, X = 8, U = 16, G = 32, A = 64, D = 128;

    private const uint RootTable = RamBase + 0x10_0000;
    private const uint LeafTable = RamBase + 0x10_1000;   // level-0 table for VPN[1] = 1
    private const uint Page1 = RamBase + 0x20_0000;
    private const uint Page2 = RamBase + 0x20_1000;

    /// <summary>VPN[1] = 1: the 4 MiB region whose 4 KiB pages <see cref="Map"/> fills.</summary>
    private const uint VaRegion = 0x0040_0000;

    private readonly HartState _state = new();
    private readonly SystemBus _bus;
    private readonly Mmu _mmu;

    public MmuTests()
    {
        _bus = new SystemBus(new GuestRam(RamSize, RamBase));
        _mmu = new Mmu(_state, _bus);

        // One PMP entry granting everything, as firmware does before dropping to S-mode.
        _mmu.Pmp.WriteAddr(0, 0xFFFF_FFFF);
        _mmu.Pmp.WriteCfg(0, 0x18 | Pmp.R | Pmp.W | Pmp.X);

        WritePhys(RootTable + 4 * 1, ((LeafTable >> 12) << 10) | V);
        _state.Satp = 0x8000_0000 | (RootTable >> 12);
        SetPrivilege(Privilege.Supervisor);

        // Give the data pages recognisable contents (and real chunks).
        WritePhys(Page1 + 0x10, 0x1111_1111);
        WritePhys(Page2 + 0x10, 0x2222_2222);
    }

    private void SetPrivilege(Privilege privilege)
    {
        _state.Privilege = privilege;
        _mmu.UpdateModes();
    }

    private void SetMstatus(uint bits)
    {
        _state.Mstatus = bits;
        _mmu.FlushAll(); // the hart flushes when SUM, MXR or MPRV change
        _mmu.UpdateModes();
    }

    private void WritePhys(uint address, uint value) => Assert.True(_bus.Write(address, 4, value));

    private uint ReadPhys(uint address)
    {
        Assert.True(_bus.Read(address, 4, out uint value));
        return value;
    }

    private static uint Pte(uint physicalAddress, uint flags) => ((physicalAddress >> 12) << 10) | flags;

    /// <summary>Maps the 4 KiB page at <c>VaRegion + index * 4 KiB</c>; returns the virtual address and the PTE address.</summary>
    private (uint Va, uint PteAddress) Map(int index, uint physicalPage, uint flags)
    {
        uint pteAddress = LeafTable + (uint)(4 * index);
        WritePhys(pteAddress, Pte(physicalPage, flags));
        return (VaRegion + (uint)(index << 12), pteAddress);
    }

    // ------------------------------------------------------------ translation

    [Fact]
    public void Machine_mode_accesses_are_physical()
    {
        SetPrivilege(Privilege.Machine);

        Assert.True(_mmu.Load32(Page1 + 0x10, out uint value));
        Assert.Equal(0x1111_1111u, value);
        Assert.True(_mmu.TranslateFetch(Page1, out uint pa));
        Assert.Equal(Page1, pa);
    }

    [Fact]
    public void Bare_satp_leaves_supervisor_addresses_physical()
    {
        _state.Satp = 0;

        Assert.True(_mmu.Load32(Page2 + 0x10, out uint value));
        Assert.Equal(0x2222_2222u, value);
    }

    [Fact]
    public void Valid_4k_mapping_translates_loads()
    {
        (uint va, _) = Map(3, Page1, V | R | W | A | D);

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x1111_1111u, value);
    }

    [Fact]
    public void Valid_4k_mapping_translates_stores()
    {
        (uint va, _) = Map(3, Page1, V | R | W | A | D);

        Assert.True(_mmu.Store32(va + 0x20, 0xABCD_EF01));

        Assert.Equal(0xABCD_EF01u, ReadPhys(Page1 + 0x20));
    }

    [Fact]
    public void Valid_4k_mapping_translates_fetches()
    {
        (uint va, _) = Map(3, Page1, V | X | A);

        Assert.True(_mmu.TranslateFetch(va + 0x44, out uint pa));
        Assert.Equal(Page1 + 0x44, pa);
    }

    [Fact]
    public void Invalid_pte_raises_a_load_page_fault_with_the_address()
    {
        (uint va, _) = Map(3, Page1, R | W | A | D); // V = 0

        Assert.False(_mmu.Load32(va + 0xABC, out _));

        Assert.Equal(ExceptionCause.LoadPageFault, _mmu.FaultCause);
        Assert.Equal(va + 0xABC, _mmu.FaultValue);
    }

    [Fact]
    public void Invalid_pte_raises_a_store_page_fault_for_stores()
    {
        (uint va, _) = Map(3, Page1, 0);

        Assert.False(_mmu.Store32(va + 8, 1));

        Assert.Equal(ExceptionCause.StorePageFault, _mmu.FaultCause);
        Assert.Equal(va + 8, _mmu.FaultValue);
    }

    [Fact]
    public void Invalid_pte_raises_an_instruction_page_fault_for_fetches()
    {
        (uint va, _) = Map(3, Page1, 0);

        Assert.False(_mmu.TranslateFetch(va + 4, out _));

        Assert.Equal(ExceptionCause.InstructionPageFault, _mmu.FaultCause);
        Assert.Equal(va + 4, _mmu.FaultValue);
    }

    [Fact]
    public void Invalid_root_entry_faults()
    {
        const uint va = 0x0123_4560; // VPN[1] = 4: nothing mapped there

        Assert.False(_mmu.Load32(va, out _));

        Assert.Equal(ExceptionCause.LoadPageFault, _mmu.FaultCause);
        Assert.Equal(va, _mmu.FaultValue);
    }

    [Fact]
    public void Store_to_a_read_only_page_faults()
    {
        (uint va, _) = Map(3, Page1, V | R | A | D);

        Assert.False(_mmu.Store32(va, 1));

        Assert.Equal(ExceptionCause.StorePageFault, _mmu.FaultCause);
        Assert.Equal(0x1111_1111u, ReadPhys(Page1 + 0x10));
    }

    [Fact]
    public void Write_without_read_is_a_reserved_encoding_and_faults()
    {
        (uint va, _) = Map(3, Page1, V | W | A | D);

        Assert.False(_mmu.Store32(va, 1));
        Assert.Equal(ExceptionCause.StorePageFault, _mmu.FaultCause);
    }

    [Fact]
    public void Pointer_pte_at_the_last_level_faults()
    {
        (uint va, _) = Map(3, Page1, V); // no R/W/X at level 0

        Assert.False(_mmu.Load32(va, out _));
        Assert.Equal(ExceptionCause.LoadPageFault, _mmu.FaultCause);
    }

    [Fact]
    public void Fetch_from_a_non_executable_page_faults()
    {
        (uint va, _) = Map(3, Page1, V | R | W | A | D);

        Assert.False(_mmu.TranslateFetch(va, out _));
        Assert.Equal(ExceptionCause.InstructionPageFault, _mmu.FaultCause);
    }

    [Fact]
    public void Page_table_outside_physical_memory_raises_an_access_fault()
    {
        WritePhys(RootTable + 4 * 5, Pte(0x4000_0000, V)); // points at nothing

        Assert.False(_mmu.Load32(0x0140_0000, out _));
        Assert.Equal(ExceptionCause.LoadAccessFault, _mmu.FaultCause);
    }

    // ------------------------------------------------------------ U bit, SUM, MXR, MPRV

    [Fact]
    public void Supervisor_load_from_a_user_page_without_sum_faults()
    {
        (uint va, _) = Map(3, Page1, V | R | W | U | A | D);

        Assert.False(_mmu.Load32(va + 0x10, out _));
        Assert.Equal(ExceptionCause.LoadPageFault, _mmu.FaultCause);
        Assert.Equal(va + 0x10, _mmu.FaultValue);
    }

    [Fact]
    public void Supervisor_load_from_a_user_page_with_sum_succeeds()
    {
        (uint va, _) = Map(3, Page1, V | R | W | U | A | D);
        SetMstatus(Mstatus.Sum);

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x1111_1111u, value);
    }

    [Fact]
    public void Supervisor_fetch_from_a_user_page_faults_even_with_sum()
    {
        (uint va, _) = Map(3, Page1, V | R | X | U | A);
        SetMstatus(Mstatus.Sum);

        Assert.False(_mmu.TranslateFetch(va, out _));
        Assert.Equal(ExceptionCause.InstructionPageFault, _mmu.FaultCause);
        Assert.Equal(va, _mmu.FaultValue);
    }

    [Fact]
    public void User_access_to_a_supervisor_page_faults()
    {
        (uint va, _) = Map(3, Page1, V | R | W | X | A | D);
        SetPrivilege(Privilege.User);

        Assert.False(_mmu.Load32(va, out _));
        Assert.Equal(ExceptionCause.LoadPageFault, _mmu.FaultCause);
        Assert.False(_mmu.TranslateFetch(va, out _));
        Assert.Equal(ExceptionCause.InstructionPageFault, _mmu.FaultCause);
    }

    [Fact]
    public void User_access_to_a_user_page_succeeds()
    {
        (uint va, _) = Map(3, Page1, V | R | W | X | U | A | D);
        SetPrivilege(Privilege.User);

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x1111_1111u, value);
        Assert.True(_mmu.TranslateFetch(va, out _));
    }

    [Fact]
    public void Execute_only_page_is_not_readable_without_mxr()
    {
        (uint va, _) = Map(3, Page1, V | X | A);

        Assert.False(_mmu.Load32(va + 0x10, out _));
        Assert.Equal(ExceptionCause.LoadPageFault, _mmu.FaultCause);
    }

    [Fact]
    public void Mxr_makes_an_execute_only_page_readable()
    {
        (uint va, _) = Map(3, Page1, V | X | A);
        SetMstatus(Mstatus.Mxr);

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x1111_1111u, value);
    }

    [Fact]
    public void Mxr_does_not_make_an_execute_only_page_writable()
    {
        (uint va, _) = Map(3, Page1, V | X | A | D);
        SetMstatus(Mstatus.Mxr);

        Assert.False(_mmu.Store32(va, 1));
        Assert.Equal(ExceptionCause.StorePageFault, _mmu.FaultCause);
    }

    [Fact]
    public void Mprv_makes_machine_loads_translate_with_mpp_privilege()
    {
        (uint va, _) = Map(3, Page1, V | R | W | A | D);
        _state.Privilege = Privilege.Machine;
        SetMstatus(Mstatus.Mprv | ((uint)Privilege.Supervisor << Mstatus.MppShift));

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x1111_1111u, value);
        // Fetches are not affected by MPRV.
        Assert.True(_mmu.TranslateFetch(Page1, out uint pa));
        Assert.Equal(Page1, pa);
    }

    // ------------------------------------------------------------ A and D

    [Fact]
    public void Load_sets_the_accessed_bit_in_the_pte_in_memory()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R | W);

        Assert.True(_mmu.Load32(va, out _));

        uint pte = ReadPhys(pteAddress);
        Assert.Equal(A, pte & A);
        Assert.Equal(0u, pte & D);
    }

    [Fact]
    public void Store_sets_accessed_and_dirty_bits_in_the_pte_in_memory()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R | W);

        Assert.True(_mmu.Store32(va, 7));

        Assert.Equal(A | D, ReadPhys(pteAddress) & (A | D));
    }

    [Fact]
    public void Store_after_a_load_still_sets_the_dirty_bit()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R | W);
        Assert.True(_mmu.Load32(va, out _));

        Assert.True(_mmu.Store32(va, 7));

        Assert.Equal(D, ReadPhys(pteAddress) & D);
    }

    [Fact]
    public void Fetch_sets_the_accessed_bit()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | X);

        Assert.True(_mmu.TranslateFetch(va, out _));

        Assert.Equal(A, ReadPhys(pteAddress) & A);
    }

    [Fact]
    public void Faulting_access_leaves_the_pte_unchanged()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R);

        Assert.False(_mmu.Store32(va, 1));

        Assert.Equal(Pte(Page1, V | R), ReadPhys(pteAddress));
    }

    // ------------------------------------------------------------ superpages

    [Fact]
    public void Aligned_superpage_translates_the_whole_4_MiB()
    {
        WritePhys(RootTable + 4 * 2, Pte(RamBase + 0x40_0000, V | R | W | A | D)); // VA 0x0080_0000 -> PA 0x8040_0000
        WritePhys(RamBase + 0x40_0000 + 0x12_3450, 0x5EED);

        Assert.True(_mmu.Load32(0x0080_0000 + 0x12_3450, out uint value));
        Assert.Equal(0x5EEDu, value);
    }

    [Fact]
    public void Misaligned_superpage_faults()
    {
        WritePhys(RootTable + 4 * 2, Pte(RamBase + 0x40_1000, V | R | W | A | D)); // PPN[0] != 0

        Assert.False(_mmu.Load32(0x0080_0010, out _));

        Assert.Equal(ExceptionCause.LoadPageFault, _mmu.FaultCause);
        Assert.Equal(0x0080_0010u, _mmu.FaultValue);
    }

    // ------------------------------------------------------------ TLB and SFENCE.VMA

    [Fact]
    public void Without_sfence_the_tlb_keeps_the_old_translation()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R | W | A | D);
        Assert.True(_mmu.Load32(va + 0x10, out _));

        WritePhys(pteAddress, Pte(Page2, V | R | W | A | D));

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x1111_1111u, value);
    }

    [Fact]
    public void Sfence_of_the_page_makes_a_changed_pte_visible()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R | W | A | D);
        Assert.True(_mmu.Load32(va + 0x10, out _));
        WritePhys(pteAddress, Pte(Page2, V | R | W | A | D));

        _mmu.Fence(va, null);

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x2222_2222u, value);
    }

    [Fact]
    public void Sfence_of_another_page_keeps_the_cached_translation()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R | W | A | D);
        Assert.True(_mmu.Load32(va + 0x10, out _));
        WritePhys(pteAddress, Pte(Page2, V | R | W | A | D));

        _mmu.Fence(va + 0x1000, null);

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x1111_1111u, value);
    }

    [Fact]
    public void Sfence_also_drops_a_cached_store_translation()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R | W | A | D);
        Assert.True(_mmu.Store32(va + 0x30, 1));
        WritePhys(pteAddress, Pte(Page2, V | R | W | A | D));

        _mmu.Fence(va, null);
        Assert.True(_mmu.Store32(va + 0x30, 2));

        Assert.Equal(1u, ReadPhys(Page1 + 0x30));
        Assert.Equal(2u, ReadPhys(Page2 + 0x30));
    }

    [Fact]
    public void Sfence_of_one_address_in_a_superpage_drops_every_cached_page_of_that_superpage()
    {
        // Privileged spec, SFENCE.VMA (v1.12 §4.2.1): rs1 = va invalidates "all address-translation cache
        // entries that contain leaf page table entries corresponding to the virtual address in rs1".
        // Every 4 KiB TLB entry cut from a 4 MiB superpage contains that one leaf PTE. (Linux flushes a
        // huge page with a single sfence.vma of its first address; QEMU flushes its whole TLB then.)
        const uint superVa = 0x0080_0000;
        uint oldBase = RamBase + 0x40_0000, newBase = RamBase + 0x80_0000;
        WritePhys(oldBase + 0x5000, 0x01D);
        WritePhys(newBase + 0x5000, 0x0E3);
        WritePhys(RootTable + 4 * 2, Pte(oldBase, V | R | W | A | D));
        Assert.True(_mmu.Load32(superVa, out _));
        Assert.True(_mmu.Load32(superVa + 0x5000, out uint before));
        Assert.Equal(0x01Du, before);

        WritePhys(RootTable + 4 * 2, Pte(newBase, V | R | W | A | D));
        _mmu.Fence(superVa, null);

        Assert.True(_mmu.Load32(superVa + 0x5000, out uint after));
        Assert.Equal(0x0E3u, after);
    }

    [Fact]
    public void Sfence_of_an_asid_keeps_global_mappings()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R | W | G | A | D);
        Assert.True(_mmu.Load32(va + 0x10, out _));
        WritePhys(pteAddress, Pte(Page2, V | R | W | G | A | D));

        _mmu.Fence(null, 0);

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x1111_1111u, value);
    }

    [Fact]
    public void Sfence_of_an_asid_drops_its_non_global_mappings()
    {
        (uint va, uint pteAddress) = Map(3, Page1, V | R | W | A | D);
        Assert.True(_mmu.Load32(va + 0x10, out _));
        WritePhys(pteAddress, Pte(Page2, V | R | W | A | D));

        _mmu.Fence(null, 0);

        Assert.True(_mmu.Load32(va + 0x10, out uint value));
        Assert.Equal(0x2222_2222u, value);
    }

    [Fact]
    public void Tlb_hit_after_chunk_allocation_sees_the_new_chunk()
    {
        const uint untouched = RamBase + 0x30_0000; // a chunk nobody has written yet
        (uint va, _) = Map(5, untouched, V | R | W | A | D);
        Assert.True(_mmu.Load32(va, out uint before));
        Assert.Equal(0u, before);

        WritePhys(untouched, 0x600D);

        Assert.True(_mmu.Load32(va, out uint after));
        Assert.Equal(0x600Du, after);
    }

    // ------------------------------------------------------------ code pages

    [Fact]
    public void Every_store_to_a_code_page_reaches_the_code_observer()
    {
        var observer = new RecordingCodeObserver();
        _bus.AddCodeObserver(observer);
        (uint va, _) = Map(3, Page1, V | R | W | X | A | D);
        _bus.MarkCodePage(Page1);

        Assert.True(_mmu.Store32(va + 0x40, 1));
        Assert.True(_mmu.Store32(va + 0x40, 2));
        Assert.True(_mmu.Store32(va + 0x44, 3));

        Assert.Equal([(Page1 + 0x40, 4), (Page1 + 0x40, 4), (Page1 + 0x44, 4)], observer.Writes);
        Assert.Equal(3u, ReadPhys(Page1 + 0x44));
    }

    [Fact]
    public void Page_that_becomes_code_after_a_cached_store_still_reports_later_stores()
    {
        var observer = new RecordingCodeObserver();
        _bus.AddCodeObserver(observer);
        (uint va, _) = Map(3, Page1, V | R | W | X | A | D);
        Assert.True(_mmu.Store32(va + 0x40, 1)); // caches the store translation

        _bus.MarkCodePage(Page1);
        Assert.True(_mmu.Store32(va + 0x40, 2));

        Assert.Equal([(Page1 + 0x40, 4)], observer.Writes);
    }

    [Fact]
    public void Machine_mode_stores_to_a_code_page_reach_the_observer()
    {
        var observer = new RecordingCodeObserver();
        _bus.AddCodeObserver(observer);
        SetPrivilege(Privilege.Machine);
        _bus.MarkCodePage(Page2);

        Assert.True(_mmu.Store8(Page2 + 1, 0xAA));
        Assert.True(_mmu.Store16(Page2 + 2, 0xBBBB));

        Assert.Equal([(Page2 + 1, 1), (Page2 + 2, 2)], observer.Writes);
    }

    // ------------------------------------------------------------ physical limits and PMP

    [Fact]
    public void Load_from_unmapped_physical_address_is_an_access_fault()
    {
        SetPrivilege(Privilege.Machine);

        Assert.False(_mmu.Load32(0x4000_0000, out _));

        Assert.Equal(ExceptionCause.LoadAccessFault, _mmu.FaultCause);
        Assert.Equal(0x4000_0000u, _mmu.FaultValue);
    }

    [Fact]
    public void Fetch_from_a_device_is_an_access_fault()
    {
        SetPrivilege(Privilege.Machine);

        Assert.False(_mmu.TranslateFetch(0x1000_0000, out _));
        Assert.Equal(ExceptionCause.InstructionAccessFault, _mmu.FaultCause);
    }

    [Fact]
    public void Supervisor_access_without_a_pmp_grant_is_an_access_fault()
    {
        var state = new HartState { Privilege = Privilege.Supervisor };
        var mmu = new Mmu(state, _bus);

        Assert.False(mmu.Load32(Page1, out _));
        Assert.Equal(ExceptionCause.LoadAccessFault, mmu.FaultCause);
    }

    [Fact]
    public void Loads_from_untouched_RAM_read_zeros_through_the_TLB_until_the_first_store_gives_the_page_its_own_memory()
    {
        SetPrivilege(Privilege.Machine); // bare: virtual = physical
        uint untouched = RamBase + 0x30_0000;

        Assert.True(_mmu.Load32(untouched, out uint first));
        long missesAfterFirst = _mmu.TlbMisses;
        Assert.True(_mmu.Load32(untouched + 4, out uint second));
        long missesAfterSecond = _mmu.TlbMisses;
        Assert.True(_mmu.Store32(untouched + 8, 0xCAFE_F00D));
        Assert.True(_mmu.Load32(untouched + 8, out uint stored));

        Assert.Equal(0u, first);
        Assert.Equal(0u, second);
        Assert.Equal(missesAfterFirst, missesAfterSecond); // the second load hit: the zero page was mapped
        Assert.Equal(0xCAFE_F00Du, stored);                // and that mapping did not outlive the store
    }

    [Fact]
    public void Pages_a_mebibyte_apart_use_different_TLB_slots()
    {
        // A program's .data and the start of a large .bss, 1 MiB apart: with the page number's low
        // byte alone they shared a slot and evicted each other on every access.
        Assert.NotEqual(Mmu.TlbIndex(0x8000_3000), Mmu.TlbIndex(0x8010_3000));
        Assert.NotEqual(Mmu.TlbIndex(0x8000_3000), Mmu.TlbIndex(0x8000_4000));
        Assert.InRange(Mmu.TlbIndex(0xFFFF_FFFF), 0, Mmu.TlbSize - 1);
    }
}
