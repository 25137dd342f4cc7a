namespace Hypervisor.Cpu;

/// <summary>CSR numbers of the machine and supervisor CSRs this hart implements.</summary>
public static class CsrAddress
{
    // unprivileged counters
    public const int Cycle = 0xC00, Time = 0xC01, Instret = 0xC02;
    public const int HpmCounter3 = 0xC03, HpmCounter31 = 0xC1F;
    public const int CycleH = 0xC80, TimeH = 0xC81, InstretH = 0xC82;
    public const int HpmCounter3H = 0xC83, HpmCounter31H = 0xC9F;

    // supervisor
    public const int Sstatus = 0x100, Sie = 0x104, Stvec = 0x105, Scounteren = 0x106, Senvcfg = 0x10A;
    public const int Sscratch = 0x140, Sepc = 0x141, Scause = 0x142, Stval = 0x143, Sip = 0x144;
    public const int Satp = 0x180;

    // machine information
    public const int Mvendorid = 0xF11, Marchid = 0xF12, Mimpid = 0xF13, Mhartid = 0xF14, Mconfigptr = 0xF15;

    // machine trap setup and handling
    public const int Mstatus = 0x300, Misa = 0x301, Medeleg = 0x302, Mideleg = 0x303, Mie = 0x304;
    public const int Mtvec = 0x305, Mcounteren = 0x306, Menvcfg = 0x30A, Mstatush = 0x310, Menvcfgh = 0x31A;
    public const int Mcountinhibit = 0x320, Mhpmevent3 = 0x323, Mhpmevent31 = 0x33F;
    public const int Mscratch = 0x340, Mepc = 0x341, Mcause = 0x342, Mtval = 0x343, Mip = 0x344;

    // physical memory protection
    public const int Pmpcfg0 = 0x3A0, Pmpcfg15 = 0x3AF, Pmpaddr0 = 0x3B0, Pmpaddr63 = 0x3EF;

    // machine counters
    public const int Mcycle = 0xB00, Minstret = 0xB02, Mhpmcounter3 = 0xB03, Mhpmcounter31 = 0xB1F;
    public const int McycleH = 0xB80, MinstretH = 0xB82, Mhpmcounter3H = 0xB83, Mhpmcounter31H = 0xB9F;
}

/// <summary>Bit positions and masks of mstatus (RV32).</summary>
public static class Mstatus
{
    public const uint Sie = 1u << 1;
    public const uint Mie = 1u << 3;
    public const uint Spie = 1u << 5;
    public const uint Ube = 1u << 6;
    public const uint Mpie = 1u << 7;
    public const uint Spp = 1u << 8;
    public const int MppShift = 11;
    public const uint Mpp = 3u << MppShift;
    public const uint Mprv = 1u << 17;
    public const uint Sum = 1u << 18;
    public const uint Mxr = 1u << 19;
    public const uint Tvm = 1u << 20;
    public const uint Tw = 1u << 21;
    public const uint Tsr = 1u << 22;

    /// <summary>Bits a write to mstatus may change (no F/V/X state, little-endian only).</summary>
    public const uint WritableMask = Sie | Mie | Spie | Mpie | Spp | Mpp | Mprv | Sum | Mxr | Tvm | Tw | Tsr;

    /// <summary>The bits of mstatus that sstatus shows (SIE SPIE UBE SPP VS FS XS SUM MXR SD).</summary>
    public const uint SstatusMask = 0x800DE762;
}
