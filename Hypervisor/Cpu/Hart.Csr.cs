using C = Hypervisor.Cpu.CsrAddress;

namespace Hypervisor.Cpu;

public sealed partial class Hart
{
    /// <summary>misa: RV32 with A, I, M, S, U.</summary>
    public const uint MisaValue = (1u << 30) | (1u << 0) | (1u << 8) | (1u << 12) | (1u << 18) | (1u << 20);

    private const uint MedelegMask = 0xB3FF;  // every exception but ECALL from M (and reserved codes)
    private const uint MidelegMask = InterruptBits.Ssip | InterruptBits.Stip | InterruptBits.Seip;
    private const uint MieMask = 0xAAA;
    private const uint MipWritableMask = InterruptBits.Ssip | InterruptBits.Stip | InterruptBits.Seip;
    private const uint CounterenMask = 0xFFFF_FFFF;
    private const uint EnvcfgMask = 1; // FIOM only

    /// <summary>
    /// Checks the access rules of the privileged spec (2.1, 3.1): the CSR exists, the current mode
    /// may access it (bits 9:8), a write is not to a read-only CSR (bits 11:10 = 3), and the
    /// TVM / counter-enable rules. False means illegal instruction.
    /// </summary>
    public bool CsrAccessAllowed(int csr, bool write)
    {
        HartState s = State;
        var required = (Privilege)((csr >> 8) & 3);
        if (s.Privilege < required || (write && (csr >> 10) == 3))
        {
            return false;
        }
        if (csr == C.Satp && s.Privilege == Privilege.Supervisor && (s.Mstatus & Mstatus.Tvm) != 0)
        {
            return false;
        }
        if (csr is (>= C.Cycle and <= C.HpmCounter31) or (>= C.CycleH and <= C.HpmCounter31H))
        {
            uint bit = 1u << (csr & 31);
            if (s.Privilege < Privilege.Machine && (s.Mcounteren & bit) == 0)
            {
                return false;
            }
            if (s.Privilege == Privilege.User && (s.Scounteren & bit) == 0)
            {
                return false;
            }
        }
        return Exists(csr);
    }

    private static bool Exists(int csr) => csr switch
    {
        >= C.Cycle and <= C.HpmCounter31 => true,
        >= C.CycleH and <= C.HpmCounter31H => true,
        C.Sstatus or C.Sie or C.Stvec or C.Scounteren or C.Senvcfg => true,
        C.Sscratch or C.Sepc or C.Scause or C.Stval or C.Sip or C.Satp => true,
        C.Mvendorid or C.Marchid or C.Mimpid or C.Mhartid or C.Mconfigptr => true,
        C.Mstatus or C.Misa or C.Medeleg or C.Mideleg or C.Mie or C.Mtvec or C.Mcounteren => true,
        C.Menvcfg or C.Mstatush or C.Menvcfgh => true,
        >= C.Mhpmevent3 and <= C.Mhpmevent31 => true,
        C.Mscratch or C.Mepc or C.Mcause or C.Mtval or C.Mip => true,
        >= C.Pmpcfg0 and <= C.Pmpaddr63 => true,
        C.Mcycle or C.Minstret or (>= C.Mhpmcounter3 and <= C.Mhpmcounter31) => true,
        C.McycleH or C.MinstretH or (>= C.Mhpmcounter3H and <= C.Mhpmcounter31H) => true,
        _ => false,
    };

    /// <summary>Reads a CSR whose access was already checked.</summary>
    public uint ReadCsr(int csr)
    {
        HartState s = State;
        switch (csr)
        {
            case C.Cycle: case C.Mcycle: return (uint)(s.Cycle + s.CycleBias);
            case C.CycleH: case C.McycleH: return (uint)((s.Cycle + s.CycleBias) >> 32);
            case C.Instret: case C.Minstret: return (uint)(s.Instret + s.InstretBias);
            case C.InstretH: case C.MinstretH: return (uint)((s.Instret + s.InstretBias) >> 32);
            case C.Time: return (uint)Clock.Now;
            case C.TimeH: return (uint)(Clock.Now >> 32);

            case C.Sstatus: return s.Mstatus & Mstatus.SstatusMask;
            case C.Sie: return s.Mie & s.Mideleg;
            case C.Sip: return s.Mip & s.Mideleg;
            case C.Stvec: return s.Stvec;
            case C.Scounteren: return s.Scounteren;
            case C.Senvcfg: return s.Senvcfg;
            case C.Sscratch: return s.Sscratch;
            case C.Sepc: return s.Sepc;
            case C.Scause: return s.Scause;
            case C.Stval: return s.Stval;
            case C.Satp: return s.Satp;

            case C.Mstatus: return s.Mstatus;
            case C.Misa: return MisaValue;
            case C.Medeleg: return s.Medeleg;
            case C.Mideleg: return s.Mideleg;
            case C.Mie: return s.Mie;
            case C.Mip: return s.Mip;
            case C.Mtvec: return s.Mtvec;
            case C.Mcounteren: return s.Mcounteren;
            case C.Menvcfg: return s.Menvcfg;
            case C.Mscratch: return s.Mscratch;
            case C.Mepc: return s.Mepc;
            case C.Mcause: return s.Mcause;
            case C.Mtval: return s.Mtval;

            case >= C.Pmpcfg0 and <= C.Pmpcfg15: return Mmu.Pmp.ReadCfg(csr - C.Pmpcfg0);
            case >= C.Pmpaddr0 and <= C.Pmpaddr63: return Mmu.Pmp.ReadAddr(csr - C.Pmpaddr0);

            // mvendorid, marchid, mimpid, mhartid (hart 0), mconfigptr, mstatush (little-endian),
            // menvcfgh, and the hardware performance counters and events all read as zero.
            default: return 0;
        }
    }

    /// <summary>Writes a CSR whose access was already checked, applying its WARL rules.</summary>
    public void WriteCsr(int csr, uint value)
    {
        HartState s = State;
        switch (csr)
        {
            case C.Mcycle: SetLow(ref s.CycleBias, value, s.Cycle + 1); break;
            case C.McycleH: SetHigh(ref s.CycleBias, value, s.Cycle + 1); break;
            case C.Minstret: SetLow(ref s.InstretBias, value, s.Instret + 1); break;
            case C.MinstretH: SetHigh(ref s.InstretBias, value, s.Instret + 1); break;

            case C.Sstatus:
                WriteMstatus((s.Mstatus & ~Mstatus.SstatusMask) | (value & Mstatus.SstatusMask));
                break;
            case C.Sie:
                s.Mie = (s.Mie & ~s.Mideleg) | (value & s.Mideleg & MieMask);
                UpdateInterruptAttention();
                break;
            case C.Sip:
                // Only SSIP is writable from S-mode, and only when delegated.
                uint sipMask = s.Mideleg & InterruptBits.Ssip;
                s.MipSoftware = (s.MipSoftware & ~sipMask) | (value & sipMask);
                UpdateInterruptAttention();
                break;
            case C.Stvec: if ((value & 3) < 2) { s.Stvec = value; } break;
            case C.Scounteren: s.Scounteren = value & CounterenMask; break;
            case C.Senvcfg: s.Senvcfg = value & EnvcfgMask; break;
            case C.Sscratch: s.Sscratch = value; break;
            case C.Sepc: s.Sepc = value & ~3u; break;
            case C.Scause: s.Scause = value; break;
            case C.Stval: s.Stval = value; break;
            case C.Satp:
                // Only Bare and Sv32 exist; a write of another mode is ignored (WARL).
                s.Satp = value;
                Mmu.FlushAll();
                break;

            case C.Mstatus: WriteMstatus(value); break;
            case C.Medeleg: s.Medeleg = value & MedelegMask; break;
            case C.Mideleg: s.Mideleg = value & MidelegMask; UpdateInterruptAttention(); break;
            case C.Mie: s.Mie = value & MieMask; UpdateInterruptAttention(); break;
            case C.Mip:
                s.MipSoftware = (s.MipSoftware & ~MipWritableMask) | (value & MipWritableMask);
                UpdateInterruptAttention();
                break;
            case C.Mtvec: if ((value & 3) < 2) { s.Mtvec = value; } break;
            case C.Mcounteren: s.Mcounteren = value & CounterenMask; break;
            case C.Menvcfg: s.Menvcfg = value & EnvcfgMask; break;
            case C.Mscratch: s.Mscratch = value; break;
            case C.Mepc: s.Mepc = value & ~3u; break;
            case C.Mcause: s.Mcause = value; break;
            case C.Mtval: s.Mtval = value; break;

            case >= C.Pmpcfg0 and <= C.Pmpcfg15:
                Mmu.Pmp.WriteCfg(csr - C.Pmpcfg0, value);
                Mmu.FlushAll();
                break;
            case >= C.Pmpaddr0 and <= C.Pmpaddr63:
                Mmu.Pmp.WriteAddr(csr - C.Pmpaddr0, value);
                Mmu.FlushAll();
                break;

            default:
                break; // misa, mstatush, menvcfgh, hpm counters/events: writes ignored
        }
    }

    private void WriteMstatus(uint value)
    {
        HartState s = State;
        uint old = s.Mstatus;
        uint next = (old & ~Mstatus.WritableMask) | (value & Mstatus.WritableMask);
        // MPP is WARL over the implemented modes: the reserved value 2 leaves it unchanged.
        if (((next >> Mstatus.MppShift) & 3) == 2)
        {
            next = (next & ~Mstatus.Mpp) | (old & Mstatus.Mpp);
        }
        s.Mstatus = next;
        const uint translationBits = Mstatus.Sum | Mstatus.Mxr | Mstatus.Mprv | Mstatus.Mpp;
        if (((old ^ next) & translationBits) != 0)
        {
            Mmu.FlushAll();
        }
        OnModeChanged();
    }

    // The counters are derived from the cycle count, so a write stores the bias that makes the
    // CSR read back the written value. the bias accounts for the writing instruction itself, so the next instruction reads the value written.
    private static void SetLow(ref ulong bias, uint value, ulong raw)
    {
        ulong current = raw + bias;
        ulong wanted = (current & 0xFFFF_FFFF_0000_0000) | value;
        bias = wanted - raw;
    }

    private static void SetHigh(ref ulong bias, uint value, ulong raw)
    {
        ulong current = raw + bias;
        ulong wanted = ((ulong)value << 32) | (current & 0xFFFF_FFFF);
        bias = wanted - raw;
    }
}
