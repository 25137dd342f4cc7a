using Hypervisor.Cpu;
using Hypervisor.Memory;

namespace Hypervisor.Tests.Memory;

public class PmpTests
{
    private const byte R = Pmp.R, W = Pmp.W, X = Pmp.X, L = Pmp.Locked;
    private const byte Off = 0 << 3, Tor = 1 << 3, Na4 = 2 << 3, Napot = 3 << 3;

    private readonly HartState _state = new();
    private readonly Pmp _pmp;

    public PmpTests() => _pmp = new Pmp(_state);

    private void SetEntry(int index, byte cfg, uint addressField)
    {
        _pmp.WriteAddr(index, addressField);
        SetCfg(index, cfg);
    }

    private void SetCfg(int index, byte cfg)
    {
        uint word = _pmp.ReadCfg(index / 4);
        int shift = 8 * (index % 4);
        word = (word & ~(0xFFu << shift)) | ((uint)cfg << shift);
        _pmp.WriteCfg(index / 4, word);
    }

    private static uint NapotAddress(uint baseAddress, uint size) => (baseAddress >> 2) | ((size >> 3) - 1);

    [Theory]
    [InlineData(Privilege.Supervisor)]
    [InlineData(Privilege.User)]
    public void No_matching_entry_denies_supervisor_and_user(Privilege privilege)
    {
        Assert.False(_pmp.Allows(0x8000_0000, 4, AccessType.Load, privilege));
        Assert.False(_pmp.Allows(0x8000_0000, 4, AccessType.Store, privilege));
        Assert.False(_pmp.Allows(0x8000_0000, 4, AccessType.Fetch, privilege));
    }

    [Fact]
    public void No_matching_entry_allows_machine()
    {
        Assert.True(_pmp.Allows(0x8000_0000, 4, AccessType.Load, Privilege.Machine));
        Assert.True(_pmp.Allows(0x8000_0000, 4, AccessType.Store, Privilege.Machine));
        Assert.True(_pmp.Allows(0x8000_0000, 4, AccessType.Fetch, Privilege.Machine));
    }

    [Fact]
    public void Off_entry_matches_nothing()
    {
        SetEntry(0, Off | R | W | X, 0xFFFF_FFFF);

        Assert.False(_pmp.Allows(0x8000_0000, 4, AccessType.Load, Privilege.Supervisor));
    }

    [Fact]
    public void Tor_entry_0_matches_from_zero_up_to_its_address()
    {
        SetEntry(0, Tor | R, 0x8000_1000 >> 2);

        Assert.True(_pmp.Allows(0x0000_0000, 4, AccessType.Load, Privilege.Supervisor));
        Assert.True(_pmp.Allows(0x8000_0FFC, 4, AccessType.Load, Privilege.User));
        Assert.False(_pmp.Allows(0x8000_1000, 4, AccessType.Load, Privilege.Supervisor));
    }

    [Fact]
    public void Tor_entry_matches_from_the_previous_address_up_to_its_own()
    {
        _pmp.WriteAddr(0, 0x8000_1000 >> 2);
        SetEntry(1, Tor | R | W, 0x8000_2000 >> 2);

        Assert.False(_pmp.Allows(0x8000_0FFC, 4, AccessType.Load, Privilege.Supervisor));
        Assert.True(_pmp.Allows(0x8000_1000, 4, AccessType.Store, Privilege.Supervisor));
        Assert.True(_pmp.Allows(0x8000_1FFC, 4, AccessType.Load, Privilege.Supervisor));
        Assert.False(_pmp.Allows(0x8000_2000, 4, AccessType.Load, Privilege.Supervisor));
    }

    [Fact]
    public void Tor_entry_with_top_below_bottom_matches_nothing()
    {
        _pmp.WriteAddr(0, 0x8000_2000 >> 2);
        SetEntry(1, Tor | R | W | X, 0x8000_1000 >> 2);

        Assert.False(_pmp.Allows(0x8000_1800, 4, AccessType.Load, Privilege.Supervisor));
    }

    [Fact]
    public void Na4_entry_matches_exactly_four_bytes()
    {
        SetEntry(0, Na4 | R, 0x8000_0010 >> 2);

        Assert.True(_pmp.Allows(0x8000_0010, 4, AccessType.Load, Privilege.Supervisor));
        Assert.True(_pmp.Allows(0x8000_0013, 1, AccessType.Load, Privilege.Supervisor));
        Assert.False(_pmp.Allows(0x8000_0014, 1, AccessType.Load, Privilege.Supervisor));
        Assert.False(_pmp.Allows(0x8000_000C, 4, AccessType.Load, Privilege.Supervisor));
    }

    [Fact]
    public void Napot_entry_matches_its_naturally_aligned_power_of_two_range()
    {
        SetEntry(0, Napot | R | X, NapotAddress(0x8001_0000, 0x1_0000));

        Assert.False(_pmp.Allows(0x8000_FFFC, 4, AccessType.Load, Privilege.Supervisor));
        Assert.True(_pmp.Allows(0x8001_0000, 4, AccessType.Load, Privilege.Supervisor));
        Assert.True(_pmp.Allows(0x8001_FFFC, 4, AccessType.Fetch, Privilege.User));
        Assert.False(_pmp.Allows(0x8002_0000, 4, AccessType.Load, Privilege.Supervisor));
    }

    [Fact]
    public void Napot_smallest_range_is_eight_bytes()
    {
        SetEntry(0, Napot | R, 0x8000_0000 >> 2); // no trailing ones: 8 bytes

        Assert.True(_pmp.Allows(0x8000_0004, 4, AccessType.Load, Privilege.Supervisor));
        Assert.False(_pmp.Allows(0x8000_0008, 4, AccessType.Load, Privilege.Supervisor));
    }

    [Fact]
    public void Napot_all_ones_address_covers_the_whole_address_space()
    {
        SetEntry(0, Napot | R | W | X, 0xFFFF_FFFF);

        Assert.True(_pmp.Allows(0x0000_0000, 4, AccessType.Store, Privilege.User));
        Assert.True(_pmp.Allows(0xFFFF_FFFC, 4, AccessType.Fetch, Privilege.User));
    }

    [Theory]
    [InlineData(AccessType.Load, R)]
    [InlineData(AccessType.Store, W)]
    [InlineData(AccessType.Fetch, X)]
    public void Each_access_type_needs_its_own_permission_bit(AccessType access, byte bit)
    {
        SetEntry(0, (byte)(Napot | (R | W | X) & ~bit), 0xFFFF_FFFF);
        Assert.False(_pmp.Allows(0x8000_0000, 4, access, Privilege.Supervisor));

        SetEntry(0, (byte)(Napot | bit | R), 0xFFFF_FFFF);
        Assert.True(_pmp.Allows(0x8000_0000, 4, access, Privilege.Supervisor));
    }

    [Fact]
    public void Machine_ignores_permissions_of_an_unlocked_entry()
    {
        SetEntry(0, Napot, NapotAddress(0x8000_0000, 0x1000));

        Assert.True(_pmp.Allows(0x8000_0000, 4, AccessType.Store, Privilege.Machine));
        Assert.True(_pmp.Allows(0x8000_0000, 4, AccessType.Fetch, Privilege.Machine));
    }

    [Fact]
    public void Locked_entry_binds_machine_mode_too()
    {
        SetEntry(0, Napot | R | L, NapotAddress(0x8000_0000, 0x1000));

        Assert.True(_pmp.Allows(0x8000_0000, 4, AccessType.Load, Privilege.Machine));
        Assert.False(_pmp.Allows(0x8000_0000, 4, AccessType.Store, Privilege.Machine));
        Assert.False(_pmp.Allows(0x8000_0000, 4, AccessType.Fetch, Privilege.Machine));
    }

    [Fact]
    public void First_matching_entry_decides()
    {
        SetEntry(0, Napot | R, NapotAddress(0x8000_0000, 0x1000));
        SetEntry(1, Napot | R | W | X, 0xFFFF_FFFF);

        Assert.False(_pmp.Allows(0x8000_0000, 4, AccessType.Store, Privilege.Supervisor));
        Assert.True(_pmp.Allows(0x8000_1000, 4, AccessType.Store, Privilege.Supervisor));
    }

    [Theory]
    [InlineData(Privilege.Supervisor)]
    [InlineData(Privilege.Machine)]
    public void Access_matching_an_entry_only_partly_is_denied(Privilege privilege)
    {
        SetEntry(0, Napot | R | W | X, NapotAddress(0x8000_0000, 0x1000));
        SetEntry(1, Napot | R | W | X, 0xFFFF_FFFF);

        Assert.False(_pmp.Allows(0x8000_0FFE, 4, AccessType.Load, privilege));
        Assert.False(_pmp.Allows(0x7FFF_FFFE, 4, AccessType.Load, privilege));
    }

    [Fact]
    public void Locked_entry_ignores_later_cfg_writes()
    {
        SetEntry(0, Napot | R | L, NapotAddress(0x8000_0000, 0x1000));

        SetCfg(0, Napot | R | W | X);

        Assert.Equal((uint)(Napot | R | L), _pmp.ReadCfg(0) & 0xFF);
        Assert.False(_pmp.Allows(0x8000_0000, 4, AccessType.Store, Privilege.Supervisor));
    }

    [Fact]
    public void Locked_entry_ignores_later_address_writes()
    {
        uint address = NapotAddress(0x8000_0000, 0x1000);
        SetEntry(0, Napot | R | L, address);

        _pmp.WriteAddr(0, NapotAddress(0x9000_0000, 0x1000));

        Assert.Equal(address, _pmp.ReadAddr(0));
        Assert.True(_pmp.Allows(0x8000_0000, 4, AccessType.Load, Privilege.Supervisor));
    }

    [Fact]
    public void Locked_tor_entry_also_locks_the_address_below_it()
    {
        _pmp.WriteAddr(0, 0x8000_0000 >> 2);
        SetEntry(1, Tor | R | L, 0x8000_1000 >> 2);

        _pmp.WriteAddr(0, 0x7000_0000 >> 2);

        Assert.Equal(0x8000_0000u >> 2, _pmp.ReadAddr(0));
    }

    [Fact]
    public void Lock_does_not_protect_other_entries_of_the_same_cfg_register()
    {
        SetEntry(0, Napot | R | L, NapotAddress(0x8000_0000, 0x1000));

        SetEntry(1, Napot | R | W, NapotAddress(0x8001_0000, 0x1000));

        Assert.Equal((uint)(Napot | R | W), (_pmp.ReadCfg(0) >> 8) & 0xFF);
    }

    [Fact]
    public void Reserved_cfg_bits_read_as_zero()
    {
        _pmp.WriteCfg(0, 0x60 | Napot | R);

        Assert.Equal((uint)(Napot | R), _pmp.ReadCfg(0) & 0xFF);
    }

    [Fact]
    public void Cfg_registers_beyond_16_entries_read_zero()
    {
        _pmp.WriteCfg(4, 0x1F1F_1F1F);
        Assert.Equal(0u, _pmp.ReadCfg(4));
        Assert.Equal(0u, _pmp.ReadAddr(16));
    }

    [Fact]
    public void Last_of_the_16_entries_is_used()
    {
        SetEntry(15, Napot | R, 0xFFFF_FFFF);

        Assert.True(_pmp.Allows(0x8000_0000, 4, AccessType.Load, Privilege.User));
    }
}
