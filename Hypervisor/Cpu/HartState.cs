namespace Hypervisor.Cpu;

/// <summary>The architectural state of one hart: registers, pc, privilege, CSRs and counters.</summary>
/// <remarks>
/// Plain data, kept apart from the code that steps it (as Spike's state_t is apart from
/// processor_t), so that any engine can run it and a snapshot is a copy of these fields.
/// Interrupt-pending bits driven by devices live in <see cref="MipHardware"/>; the ones software
/// writes live in <see cref="MipSoftware"/>; mip reads as their union.
/// </remarks>
public sealed class HartState
{
    /// <summary>Integer registers; x0 is kept at zero by the engines.</summary>
    public readonly uint[] X = new uint[32];

    public uint Pc;
    public Privilege Privilege = Privilege.Machine;

    // Counters. Cycle counts executed instructions (retired or trapping) plus idle time skipped in
    // WFI; it is the only counter engines bump per instruction, the others are derived from it.
    public ulong Cycle;
    public ulong IdleCycles;
    public ulong ExceptionCount;
    public ulong CycleBias;
    public ulong InstretBias;

    // Machine CSRs.
    public uint Mstatus;
    public uint Medeleg;
    public uint Mideleg;
    public uint Mie;
    public uint MipSoftware;
    public uint MipHardware;
    public uint Mtvec;
    public uint Mscratch;
    public uint Mepc;
    public uint Mcause;
    public uint Mtval;
    public uint Mcounteren;
    public uint Menvcfg;

    // Supervisor CSRs (sstatus, sie and sip are views of the machine ones).
    public uint Stvec;
    public uint Sscratch;
    public uint Sepc;
    public uint Scause;
    public uint Stval;
    public uint Satp;
    public uint Scounteren;
    public uint Senvcfg;

    /// <summary>pmpcfg0..3 as 16 one-byte entries.</summary>
    public readonly byte[] PmpCfg = new byte[16];
    public readonly uint[] PmpAddr = new uint[16];

    // LR/SC reservation.
    public bool ReservationValid;
    public uint ReservationAddress;

    /// <summary>mip as software reads it.</summary>
    public uint Mip => MipSoftware | MipHardware;

    /// <summary>Executed instructions (retired or trapping), the unit of slice budgets.</summary>
    public ulong Executed => Cycle - IdleCycles;

    /// <summary>Retired instructions: executed ones that did not raise an exception.</summary>
    public ulong Instret => Cycle - IdleCycles - ExceptionCount;

    /// <summary>Resets to the state QEMU's virt machine gives a hart at power-on.</summary>
    public void Reset(uint entry)
    {
        Array.Clear(X);
        Pc = entry;
        Privilege = Privilege.Machine;
        Cycle = IdleCycles = ExceptionCount = CycleBias = InstretBias = 0;
        Mstatus = Medeleg = Mideleg = Mie = MipSoftware = MipHardware = 0;
        Mtvec = Mscratch = Mepc = Mcause = Mtval = Mcounteren = Menvcfg = 0;
        Stvec = Sscratch = Sepc = Scause = Stval = Satp = Scounteren = Senvcfg = 0;
        Array.Clear(PmpCfg);
        Array.Clear(PmpAddr);
        ReservationValid = false;
        ReservationAddress = 0;
    }

    /// <summary>Copies every field of <paramref name="other"/> into this state.</summary>
    public void CopyFrom(HartState other)
    {
        Array.Copy(other.X, X, 32);
        Pc = other.Pc;
        Privilege = other.Privilege;
        Cycle = other.Cycle;
        IdleCycles = other.IdleCycles;
        ExceptionCount = other.ExceptionCount;
        CycleBias = other.CycleBias;
        InstretBias = other.InstretBias;
        Mstatus = other.Mstatus;
        Medeleg = other.Medeleg;
        Mideleg = other.Mideleg;
        Mie = other.Mie;
        MipSoftware = other.MipSoftware;
        MipHardware = other.MipHardware;
        Mtvec = other.Mtvec;
        Mscratch = other.Mscratch;
        Mepc = other.Mepc;
        Mcause = other.Mcause;
        Mtval = other.Mtval;
        Mcounteren = other.Mcounteren;
        Menvcfg = other.Menvcfg;
        Stvec = other.Stvec;
        Sscratch = other.Sscratch;
        Sepc = other.Sepc;
        Scause = other.Scause;
        Stval = other.Stval;
        Satp = other.Satp;
        Scounteren = other.Scounteren;
        Senvcfg = other.Senvcfg;
        Array.Copy(other.PmpCfg, PmpCfg, 16);
        Array.Copy(other.PmpAddr, PmpAddr, 16);
        ReservationValid = other.ReservationValid;
        ReservationAddress = other.ReservationAddress;
    }

    /// <summary>Writes every field (for VM snapshots).</summary>
    public void Save(BinaryWriter w)
    {
        foreach (uint r in X)
        {
            w.Write(r);
        }
        w.Write(Pc);
        w.Write((byte)Privilege);
        w.Write(Cycle); w.Write(IdleCycles); w.Write(ExceptionCount); w.Write(CycleBias); w.Write(InstretBias);
        foreach (uint v in new[] { Mstatus, Medeleg, Mideleg, Mie, MipSoftware, MipHardware, Mtvec, Mscratch, Mepc, Mcause, Mtval, Mcounteren, Menvcfg,
                                    Stvec, Sscratch, Sepc, Scause, Stval, Satp, Scounteren, Senvcfg })
        {
            w.Write(v);
        }
        w.Write(PmpCfg);
        foreach (uint a in PmpAddr)
        {
            w.Write(a);
        }
        w.Write(ReservationValid);
        w.Write(ReservationAddress);
    }

    /// <summary>Reads the fields written by <see cref="Save"/>.</summary>
    public void Restore(BinaryReader r)
    {
        for (int i = 0; i < 32; i++)
        {
            X[i] = r.ReadUInt32();
        }
        Pc = r.ReadUInt32();
        Privilege = (Privilege)r.ReadByte();
        Cycle = r.ReadUInt64(); IdleCycles = r.ReadUInt64(); ExceptionCount = r.ReadUInt64(); CycleBias = r.ReadUInt64(); InstretBias = r.ReadUInt64();
        Mstatus = r.ReadUInt32(); Medeleg = r.ReadUInt32(); Mideleg = r.ReadUInt32(); Mie = r.ReadUInt32(); MipSoftware = r.ReadUInt32();
        MipHardware = r.ReadUInt32(); Mtvec = r.ReadUInt32(); Mscratch = r.ReadUInt32(); Mepc = r.ReadUInt32(); Mcause = r.ReadUInt32();
        Mtval = r.ReadUInt32(); Mcounteren = r.ReadUInt32(); Menvcfg = r.ReadUInt32();
        Stvec = r.ReadUInt32(); Sscratch = r.ReadUInt32(); Sepc = r.ReadUInt32(); Scause = r.ReadUInt32(); Stval = r.ReadUInt32();
        Satp = r.ReadUInt32(); Scounteren = r.ReadUInt32(); Senvcfg = r.ReadUInt32();
        r.ReadBytes(16).CopyTo(PmpCfg, 0);
        for (int i = 0; i < 16; i++)
        {
            PmpAddr[i] = r.ReadUInt32();
        }
        ReservationValid = r.ReadBoolean();
        ReservationAddress = r.ReadUInt32();
    }
}
