using Hypervisor.Cpu;

namespace Hypervisor.Memory;

/// <summary>Physical memory protection: 16 entries with OFF/TOR/NA4/NAPOT matching, as the privileged spec (3.7) gives it.</summary>
/// <remarks>
/// Entries are checked in order and the first that matches any byte of the access decides: it
/// must match every byte, and then its R/W/X bits apply to S and U always and to M only when the
/// entry is locked. With no match, M is allowed and S/U are refused (16 entries exist). Ranges
/// are recomputed when a pmp CSR is written, so checking is a scan of at most 16 ranges.
/// </remarks>
public sealed class Pmp
{
    public const int Entries = 16;
    public const byte R = 1, W = 2, X = 4, Locked = 0x80;
    private const int ModeShift = 3;

    private readonly HartState _state;
    private readonly ulong[] _lo = new ulong[Entries];
    private readonly ulong[] _hi = new ulong[Entries];
    private int _activeCount;

    public Pmp(HartState state)
    {
        _state = state;
        Recompute();
    }

    /// <summary>Address-matching mode of an entry.</summary>
    public enum MatchMode : byte { Off = 0, Tor = 1, Na4 = 2, Napot = 3 }

    public static MatchMode ModeOf(byte cfg) => (MatchMode)((cfg >> ModeShift) & 3);

    /// <summary>Reads pmpcfg<paramref name="index"/> (0..3 hold the 16 entries; higher ones read as zero).</summary>
    public uint ReadCfg(int index)
    {
        if (index > 3)
        {
            return 0;
        }
        byte[] c = _state.PmpCfg;
        int b = index * 4;
        return c[b] | ((uint)c[b + 1] << 8) | ((uint)c[b + 2] << 16) | ((uint)c[b + 3] << 24);
    }

    public void WriteCfg(int index, uint value)
    {
        if (index > 3)
        {
            return;
        }
        for (int i = 0; i < 4; i++)
        {
            int entry = index * 4 + i;
            if ((_state.PmpCfg[entry] & Locked) != 0)
            {
                continue;
            }
            // Bits 5 and 6 are reserved and read as zero.
            _state.PmpCfg[entry] = (byte)((value >> (8 * i)) & 0x9F);
        }
        Recompute();
    }

    public uint ReadAddr(int index) => index < Entries ? _state.PmpAddr[index] : 0;

    public void WriteAddr(int index, uint value)
    {
        if (index >= Entries || (_state.PmpCfg[index] & Locked) != 0)
        {
            return;
        }
        // A locked TOR entry also locks the address below it.
        if (index + 1 < Entries && (_state.PmpCfg[index + 1] & Locked) != 0 && ModeOf(_state.PmpCfg[index + 1]) == MatchMode.Tor)
        {
            return;
        }
        _state.PmpAddr[index] = value;
        Recompute();
    }

    /// <summary>Rebuilds the ranges from the CSR values (after a write or a snapshot restore).</summary>
    public void Recompute()
    {
        _activeCount = 0;
        for (int i = 0; i < Entries; i++)
        {
            byte cfg = _state.PmpCfg[i];
            ulong addr = (ulong)_state.PmpAddr[i] << 2;
            switch (ModeOf(cfg))
            {
                case MatchMode.Tor:
                    _lo[i] = i == 0 ? 0 : (ulong)_state.PmpAddr[i - 1] << 2;
                    _hi[i] = addr;
                    break;
                case MatchMode.Na4:
                    _lo[i] = addr;
                    _hi[i] = addr + 4;
                    break;
                case MatchMode.Napot:
                    int ones = System.Numerics.BitOperations.TrailingZeroCount(~_state.PmpAddr[i]);
                    ulong size = 1UL << (ones + 3);
                    _lo[i] = addr & ~(size - 1);
                    _hi[i] = _lo[i] + size;
                    break;
                default:
                    _lo[i] = _hi[i] = 0;
                    continue;
            }
            _activeCount = i + 1;
        }
    }

    /// <summary>True if <paramref name="privilege"/> may make this access to [address, address+size).</summary>
    public bool Allows(ulong address, int size, AccessType access, Privilege privilege)
    {
        ulong end = address + (ulong)size;
        for (int i = 0; i < _activeCount; i++)
        {
            if (_lo[i] >= _hi[i] || end <= _lo[i] || address >= _hi[i])
            {
                continue;
            }
            if (address < _lo[i] || end > _hi[i])
            {
                return false; // matches only part of the access
            }
            byte cfg = _state.PmpCfg[i];
            if (privilege == Privilege.Machine && (cfg & Locked) == 0)
            {
                return true;
            }
            return (cfg & PermissionBit(access)) != 0;
        }
        return privilege == Privilege.Machine;
    }

    /// <summary>
    /// The permissions that hold for every byte of the 4 KiB page at <paramref name="page"/>, or
    /// null when entries split the page (then every access must be checked on its own).
    /// </summary>
    public byte? PagePermissions(ulong page, Privilege privilege)
    {
        ulong end = page + 4096;
        for (int i = 0; i < _activeCount; i++)
        {
            if (_lo[i] >= _hi[i] || end <= _lo[i] || page >= _hi[i])
            {
                continue;
            }
            if (page < _lo[i] || end > _hi[i])
            {
                return null;
            }
            byte cfg = _state.PmpCfg[i];
            if (privilege == Privilege.Machine && (cfg & Locked) == 0)
            {
                return R | W | X;
            }
            return (byte)(cfg & (R | W | X));
        }
        return privilege == Privilege.Machine ? (byte)(R | W | X) : (byte)0;
    }

    public static byte PermissionBit(AccessType access) => access switch
    {
        AccessType.Fetch => X,
        AccessType.Load => R,
        _ => W,
    };
}
