using Hypervisor.Cpu;
using Hypervisor.Isa;
using Hypervisor.Machine;
using Hypervisor.Memory;

namespace Hypervisor.Fuzzing;

/// <summary>One architectural field two engines disagree on.</summary>
public sealed record FieldDifference(string Field, string ValueA, string ValueB)
{
    public override string ToString() => $"{Field}: {ValueA} (A) vs {ValueB} (B)";
}

/// <summary>
/// Compares the architectural state of two VMs: everything DESIGN.md §2 says engines must agree on
/// (registers, pc, privilege, counters, CSRs, the LR/SC reservation, RAM, run state), field by field.
/// </summary>
public static class StateComparer
{
    /// <summary>The first field that differs, in a fixed order (registers first, RAM last), or null.</summary>
    public static FieldDifference? FirstDifference(VirtualMachine a, VirtualMachine b)
    {
        HartState x = a.State, y = b.State;
        for (int i = 0; i < 32; i++)
        {
            if (x.X[i] != y.X[i])
            {
                return new($"x{i} ({Disassembler.RegisterName(i)})", Hex(x.X[i]), Hex(y.X[i]));
            }
        }
        if (x.Pc != y.Pc)
        {
            return new("pc", Hex(x.Pc), Hex(y.Pc));
        }
        if (x.Privilege != y.Privilege)
        {
            return new("privilege", x.Privilege.ToString(), y.Privilege.ToString());
        }
        if (x.Instret != y.Instret)
        {
            return new("instret", x.Instret.ToString(), y.Instret.ToString());
        }
        if (x.Cycle != y.Cycle)
        {
            return new("cycle", x.Cycle.ToString(), y.Cycle.ToString());
        }
        if (x.IdleCycles != y.IdleCycles)
        {
            return new("idle cycles", x.IdleCycles.ToString(), y.IdleCycles.ToString());
        }
        FieldDifference? d =
            Csr("mstatus", x.Mstatus, y.Mstatus) ?? Csr("mtvec", x.Mtvec, y.Mtvec) ?? Csr("mepc", x.Mepc, y.Mepc) ??
            Csr("mcause", x.Mcause, y.Mcause) ?? Csr("mtval", x.Mtval, y.Mtval) ?? Csr("mscratch", x.Mscratch, y.Mscratch) ??
            Csr("mie", x.Mie, y.Mie) ?? Csr("mip", x.Mip, y.Mip) ?? Csr("medeleg", x.Medeleg, y.Medeleg) ??
            Csr("mideleg", x.Mideleg, y.Mideleg) ?? Csr("mcounteren", x.Mcounteren, y.Mcounteren) ??
            Csr("menvcfg", x.Menvcfg, y.Menvcfg) ?? Csr("stvec", x.Stvec, y.Stvec) ?? Csr("sepc", x.Sepc, y.Sepc) ??
            Csr("scause", x.Scause, y.Scause) ?? Csr("stval", x.Stval, y.Stval) ?? Csr("sscratch", x.Sscratch, y.Sscratch) ??
            Csr("satp", x.Satp, y.Satp) ?? Csr("scounteren", x.Scounteren, y.Scounteren) ?? Csr("senvcfg", x.Senvcfg, y.Senvcfg);
        if (d is not null)
        {
            return d;
        }
        if (x.CycleBias != y.CycleBias)
        {
            return new("mcycle bias", x.CycleBias.ToString(), y.CycleBias.ToString());
        }
        if (x.InstretBias != y.InstretBias)
        {
            return new("minstret bias", x.InstretBias.ToString(), y.InstretBias.ToString());
        }
        for (int i = 0; i < 16; i++)
        {
            if (x.PmpCfg[i] != y.PmpCfg[i] || x.PmpAddr[i] != y.PmpAddr[i])
            {
                return new($"pmp{i}", $"cfg 0x{x.PmpCfg[i]:x2} addr {Hex(x.PmpAddr[i])}", $"cfg 0x{y.PmpCfg[i]:x2} addr {Hex(y.PmpAddr[i])}");
            }
        }
        if (x.ReservationValid != y.ReservationValid || (x.ReservationValid && x.ReservationAddress != y.ReservationAddress))
        {
            return new("LR/SC reservation", Reservation(x), Reservation(y));
        }
        if (a.VmState != b.VmState)
        {
            return new("run state", a.VmState.ToString(), b.VmState.ToString());
        }
        if (a.ExitCode != b.ExitCode)
        {
            return new("exit code", a.ExitCode?.ToString() ?? "none", b.ExitCode?.ToString() ?? "none");
        }
        return FirstRamDifference(a.Ram, b.Ram);
    }

    /// <summary>The first RAM word that differs (whole RAM, chunk by chunk; unallocated chunks read as zeros).</summary>
    public static FieldDifference? FirstRamDifference(GuestRam a, GuestRam b)
    {
        uint size = Math.Min(a.Size, b.Size);
        for (uint offset = 0; offset < size; offset += GuestRam.ChunkSize)
        {
            ReadOnlySpan<byte> ca = a.ChunkForRead(offset), cb = b.ChunkForRead(offset);
            if (ReferenceEquals(a.ChunkForRead(offset), b.ChunkForRead(offset)) || ca.SequenceEqual(cb))
            {
                continue;
            }
            int at = ca.CommonPrefixLength(cb) & ~3;
            uint address = a.Base + offset + (uint)at;
            uint wa = BitConverter.ToUInt32(ca[at..]), wb = BitConverter.ToUInt32(cb[at..]);
            return new($"memory word at {Hex(address)} ({Region(address)})", Hex(wa), Hex(wb));
        }
        return null;
    }

    private static string Region(uint address) => address switch
    {
        >= FuzzLayout.DataBase and < FuzzLayout.DataBase + FuzzLayout.DataSize => "data page",
        >= FuzzLayout.HandlerBase and < FuzzLayout.DataBase => "trap handler",
        >= FuzzLayout.CodeBase and < FuzzLayout.HandlerBase => "code",
        _ => "RAM",
    };

    private static FieldDifference? Csr(string name, uint a, uint b) => a == b ? null : new(name, Hex(a), Hex(b));

    private static string Reservation(HartState s) => s.ReservationValid ? $"valid at {Hex(s.ReservationAddress)}" : "none";

    private static string Hex(uint value) => $"0x{value:x8}";
}
