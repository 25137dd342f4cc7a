using Hypervisor.Cpu;
using Hypervisor.Machine;

namespace Hypervisor.Tests.Support;

/// <summary>The architectural state tests compare between engines: registers, pc, mode, counters, CSRs and a hash of RAM.</summary>
public sealed record MachineSnapshot(
    uint[] Registers,
    uint Pc,
    Privilege Privilege,
    ulong Cycle,
    ulong Instret,
    uint[] Csrs,
    ulong RamHash,
    int? ExitCode)
{
    private static readonly int[] ComparedCsrs =
    [
        CsrAddress.Mstatus, CsrAddress.Mie, CsrAddress.Mip, CsrAddress.Mtvec, CsrAddress.Mepc, CsrAddress.Mcause,
        CsrAddress.Mtval, CsrAddress.Mscratch, CsrAddress.Medeleg, CsrAddress.Mideleg, CsrAddress.Stvec, CsrAddress.Sepc,
        CsrAddress.Scause, CsrAddress.Stval, CsrAddress.Sscratch, CsrAddress.Satp,
    ];

    public static MachineSnapshot Take(VirtualMachine vm)
    {
        HartState s = vm.State;
        var csrs = new uint[ComparedCsrs.Length];
        for (int i = 0; i < csrs.Length; i++)
        {
            csrs[i] = vm.Hart.ReadCsr(ComparedCsrs[i]);
        }
        return new MachineSnapshot((uint[])s.X.Clone(), s.Pc, s.Privilege, s.Cycle, s.Instret, csrs, HashRam(vm), vm.ExitCode);
    }

    private static ulong HashRam(VirtualMachine vm)
    {
        // FNV-1a over every allocated chunk (index and contents).
        ulong h = 14695981039346656037UL;
        byte[] buffer = new byte[Hypervisor.Memory.GuestRam.ChunkSize];
        foreach (int chunk in vm.Ram.AllocatedChunks())
        {
            vm.Ram.ReadBytes((uint)chunk * Hypervisor.Memory.GuestRam.ChunkSize, buffer);
            h = (h ^ (uint)chunk) * 1099511628211UL;
            foreach (byte b in buffer)
            {
                h = (h ^ b) * 1099511628211UL;
            }
        }
        return h;
    }

    public bool Equals(MachineSnapshot? other) =>
        other is not null && Registers.AsSpan().SequenceEqual(other.Registers) && Pc == other.Pc &&
        Privilege == other.Privilege && Cycle == other.Cycle && Instret == other.Instret &&
        Csrs.AsSpan().SequenceEqual(other.Csrs) && RamHash == other.RamHash && ExitCode == other.ExitCode;

    public override int GetHashCode() => HashCode.Combine(Pc, Cycle, Instret, RamHash);

    /// <summary>Names the first field that differs, for failure messages.</summary>
    public string Describe(MachineSnapshot other)
    {
        for (int i = 0; i < 32; i++)
        {
            if (Registers[i] != other.Registers[i])
            {
                return $"x{i}: 0x{Registers[i]:x8} vs 0x{other.Registers[i]:x8}";
            }
        }
        if (Pc != other.Pc) return $"pc: 0x{Pc:x8} vs 0x{other.Pc:x8}";
        if (Privilege != other.Privilege) return $"mode: {Privilege} vs {other.Privilege}";
        if (Cycle != other.Cycle) return $"cycle: {Cycle} vs {other.Cycle}";
        if (Instret != other.Instret) return $"instret: {Instret} vs {other.Instret}";
        for (int i = 0; i < Csrs.Length; i++)
        {
            if (Csrs[i] != other.Csrs[i])
            {
                return $"csr 0x{ComparedCsrs[i]:x3}: 0x{Csrs[i]:x8} vs 0x{other.Csrs[i]:x8}";
            }
        }
        if (RamHash != other.RamHash) return "RAM contents differ";
        return ExitCode != other.ExitCode ? $"exit code {ExitCode} vs {other.ExitCode}" : "equal";
    }
}
