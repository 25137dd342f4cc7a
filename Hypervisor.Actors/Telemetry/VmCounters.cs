using Hypervisor.Cpu;
using Hypervisor.Isa;

namespace Hypervisor.Actors.Telemetry;

/// <summary>
/// One VM's cumulative figures for the observable metrics: written by the VM's own thread once per
/// slice, read by the metrics collector whenever it collects (plain 64-bit reads, never torn on a
/// 64-bit host). Monotonic across resets and supervision restarts: a counter whose source went
/// down (a new engine, a reset hart) keeps what it had and counts on from there.
/// </summary>
public sealed class VmCounters
{
    /// <summary>Exception codes and interrupt codes 0..15 (mcause without the interrupt bit).</summary>
    public const int Causes = 16;

    internal static readonly string[] SliceEndNames = ["budget_exhausted", "horizon_reached", "idle", "power_off", "guest_fault", "stopped"];

    internal static readonly string[] ExceptionNames = BuildExceptionNames();

    internal static readonly string[] InterruptNames = BuildInterruptNames();

    /// <summary>Hybrid monitor-trap kinds by opcode (csr, xret, atomic, illegal, or the mnemonic), as <c>hv run --stats</c> groups them.</summary>
    internal static readonly string[] TrapKindByOpcode = BuildTrapKinds();

    public VmCounters(string name, int index, string engine)
    {
        Name = name;
        Index = index;
        Engine = engine;
        MonitorTraps = new Monotonic[TrapKindByOpcode.Length];
    }

    public string Name { get; }

    /// <summary>The VM's position in the scenario (the order of its track on the timeline).</summary>
    public int Index { get; }

    public string Engine { get; }

    public Monotonic Instructions;
    public Monotonic Callouts;
    public Monotonic TbLookups;
    public Monotonic TbHits;
    public Monotonic TbMisses;
    public Monotonic TbInvalidations;
    public Monotonic TbFlushes;
    public Monotonic TbTranslations;
    public Monotonic Raised;
    public Monotonic Delivered;
    public Monotonic Coalesced;
    public Monotonic Deferred;
    public Monotonic Lost;

    public readonly Monotonic[] Exceptions = new Monotonic[Causes];
    public readonly Monotonic[] Interrupts = new Monotonic[Causes];
    public readonly Monotonic[] MonitorTraps;

    /// <summary>Slices run, by <see cref="Vm.SliceEnd"/>.</summary>
    public readonly long[] SlicesByEnd = new long[SliceEndNames.Length];

    /// <summary>Host time spent in slices, nanoseconds.</summary>
    public long CpuNanoseconds;

    public long ResidentBytes;

    /// <summary>True once the VM reports interrupt accounting (the interrupt metrics show only then).</summary>
    public bool HasInterruptAccounting;

    /// <summary>Slices run in all.</summary>
    public long Slices
    {
        get
        {
            long n = 0;
            foreach (long s in SlicesByEnd)
            {
                n += s;
            }
            return n;
        }
    }

    /// <summary>The engine was rebuilt (a supervision restart): every source starts again from 0.</summary>
    public void Rebase()
    {
        Instructions.Rebase();
        Callouts.Rebase();
        TbLookups.Rebase();
        TbHits.Rebase();
        TbMisses.Rebase();
        TbInvalidations.Rebase();
        TbFlushes.Rebase();
        TbTranslations.Rebase();
        Raised.Rebase();
        Delivered.Rebase();
        Coalesced.Rebase();
        Deferred.Rebase();
        Lost.Rebase();
        foreach (Monotonic[] array in new[] { Exceptions, Interrupts, MonitorTraps })
        {
            for (int i = 0; i < array.Length; i++)
            {
                array[i].Rebase();
            }
        }
    }

    private static string[] BuildExceptionNames()
    {
        string[] names = new string[Causes];
        for (int i = 0; i < Causes; i++)
        {
            names[i] = Enum.IsDefined(typeof(ExceptionCause), (uint)i) ? SnakeCase(((ExceptionCause)(uint)i).ToString()) : $"reserved_{i}";
        }
        return names;
    }

    private static string[] BuildInterruptNames()
    {
        string[] names = new string[Causes];
        for (int i = 0; i < Causes; i++)
        {
            names[i] = i switch
            {
                InterruptBits.SupervisorSoftware => "supervisor_software",
                InterruptBits.MachineSoftware => "machine_software",
                InterruptBits.SupervisorTimer => "supervisor_timer",
                InterruptBits.MachineTimer => "machine_timer",
                InterruptBits.SupervisorExternal => "supervisor_external",
                InterruptBits.MachineExternal => "machine_external",
                _ => $"interrupt_{i}",
            };
        }
        return names;
    }

    private static string[] BuildTrapKinds()
    {
        string[] kinds = new string[(int)Opcode.Csrrci + 1];
        for (int op = 0; op < kinds.Length; op++)
        {
            kinds[op] = (Opcode)op switch
            {
                >= Opcode.Csrrw and <= Opcode.Csrrci => "csr",
                Opcode.Mret or Opcode.Sret => "xret",
                >= Opcode.LrW and <= Opcode.AmomaxuW => "atomic",
                Opcode.Illegal or Opcode.Undecoded => "illegal",
                var o => Disassembler.Mnemonic(o),
            };
        }
        return kinds;
    }

    internal static string SnakeCase(string pascal)
    {
        var sb = new System.Text.StringBuilder(pascal.Length + 4);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c) && i > 0)
            {
                sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}

/// <summary>A cumulative count fed from a source that may restart at 0: value = what earlier sources reached + the present source.</summary>
public struct Monotonic
{
    private long _base;
    private long _last;

    public readonly long Value => _base + _last;

    /// <summary>The source's present cumulative value; a smaller one than before means the source restarted.</summary>
    public void Set(long current)
    {
        if (current < _last)
        {
            _base += _last;
        }
        _last = current;
    }

    public void Rebase()
    {
        _base += _last;
        _last = 0;
    }
}
