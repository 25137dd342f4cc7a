using System.Diagnostics;
using Hypervisor.Cpu;
using Hypervisor.Engines.Interpreter;
using Hypervisor.Engines.Translation;
using Hypervisor.Isa;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Hybrid;

/// <summary>How the hybrid engine chooses a technique for the code it runs.</summary>
public enum HybridPolicy
{
    /// <summary>U-mode code by direct execution, S- and M-mode code by binary translation (VMware's split).</summary>
    ModeSplit,

    /// <summary>Interpret a block until it has run N times, then translate it (hides the JIT's cost for cold code).</summary>
    HotThreshold,

    /// <summary>Every mode by direct execution, deprivileged: each privileged instruction traps to the monitor, which emulates it.</summary>
    TrapAndEmulate,
}

/// <summary>
/// The hybrid engine (DESIGN.md §2): direct execution with trap-and-emulate for some code, binary
/// translation for the rest, as the policy says.
/// </summary>
/// <remarks>
/// Direct execution runs a pre-decoded page in a tight loop that knows nothing of privilege: every
/// privileged or system instruction (CSR access, ECALL, EBREAK, xRET, WFI, SFENCE.VMA, FENCE.I) and
/// every atomic is a trap that leaves the loop; the monitor then emulates it on the virtual hart —
/// which, for an ECALL or a privileged instruction the guest may not use, means reflecting the
/// exception into the guest kernel. Faults raised in the loop are reflected the same way. The
/// tier leaves with exact state at page crossings, traps and interrupts, so the shared run loop
/// takes interrupts exactly where the interpreter would. Writes into a pre-decoded page
/// invalidate it through the same code-page tracking the translator uses.
/// </remarks>
public sealed class HybridEngine : ExecutionEngineBase, Profiling.IProfilingEngine
{
    public const int DefaultHotThreshold = 64;

    private readonly TranslatorEngine _translator;
    private readonly InterpreterEngine _direct;
    private readonly Mmu _mmu;

    public HybridEngine(Hart hart, SystemBus bus, HybridPolicy policy = HybridPolicy.ModeSplit, int hotThreshold = DefaultHotThreshold,
        int? translationThreshold = null, bool backgroundCompilation = false)
        : base(hart)
    {
        Policy = policy;
        HotThreshold = hotThreshold;
        _mmu = hart.Mmu;
        int threshold = policy == HybridPolicy.HotThreshold ? hotThreshold : translationThreshold ?? TranslatorEngine.DefaultTranslationThreshold;
        _translator = new TranslatorEngine(hart, bus, translationThreshold: threshold, backgroundCompilation: backgroundCompilation);
        _direct = new InterpreterEngine(hart, bus, eagerDecode: true);
    }

    public override string Name => "hybrid";

    public HybridPolicy Policy { get; }

    public int HotThreshold { get; }

    /// <summary>The translation tier (its cache and statistics).</summary>
    public TranslatorEngine Translator => _translator;

    /// <summary>Profiling by instrumentation in every tier (translated code, direct execution, fallback interpreter).</summary>
    public Profiling.ControlFlowProfile? Profile
    {
        get => _translator.Profile;
        set
        {
            _translator.Profile = value;
            _direct.Profile = value;
        }
    }

    /// <summary>Per-technique counters that make the policies comparable.</summary>
    public HybridStatistics Tiers { get; } = new();

    /// <summary>
    /// Measure the host time spent in each tier and in the monitor (two clock reads per tier
    /// entry, which costs something when traps are frequent; off unless asked for).
    /// </summary>
    public bool MeasureTierTime { get; set; }

    private long Now() => MeasureTierTime ? Stopwatch.GetTimestamp() : 0;

    public override void FlushCode()
    {
        _translator.FlushCode();
        _direct.FlushCode();
    }

    protected override ChunkExit RunChunk(ulong n)
    {
        HartState s = S;
        ulong limit = s.Cycle + n;
        while (s.Cycle < limit)
        {
            ChunkExit exit = Policy switch
            {
                HybridPolicy.ModeSplit when s.Privilege == Privilege.User => RunDirect(limit),
                HybridPolicy.ModeSplit => RunTranslated(limit, stopInUserMode: true),
                HybridPolicy.HotThreshold => RunTranslated(limit, stopInUserMode: false),
                _ => RunDirect(limit),
            };
            if (exit is ChunkExit.Attention or ChunkExit.Idle)
            {
                return exit;
            }
        }
        return ChunkExit.Done;
    }

    private ChunkExit RunTranslated(ulong limit, bool stopInUserMode)
    {
        HartState s = S;
        ulong before = s.Executed;
        EngineStatistics bt = _translator.Statistics;
        long interpreted = bt.InstructionsInterpreted;
        long translations = _translator.Cache.Statistics.Translations;
        long started = Now();
        ChunkExit exit = _translator.RunTranslated(limit - s.Cycle, stopInUserMode);
        Tiers.TranslationTierTicks += Now() - started;
        long interpretedNow = bt.InstructionsInterpreted - interpreted;
        Tiers.InstructionsInterpreted += interpretedNow;
        Tiers.InstructionsTranslated += (long)(s.Executed - before) - interpretedNow;
        Tiers.Translations += _translator.Cache.Statistics.Translations - translations;
        Statistics.InstructionsInterpreted = Tiers.InstructionsInterpreted;
        Statistics.InstructionsTranslated = Tiers.InstructionsTranslated;
        Statistics.BlocksTranslated = _translator.Cache.Statistics.Translations;
        Statistics.TranslationTicks = _translator.Cache.Statistics.TranslationTicks;
        Statistics.Callouts = _translator.Statistics.Callouts + Tiers.TotalTraps;
        return exit;
    }

    /// <summary>Direct execution of the current page; a trap goes to the monitor, which emulates the instruction.</summary>
    private ChunkExit RunDirect(ulong limit)
    {
        HartState s = S;
        ulong before = s.Executed;
        long started = Now();
        ChunkExit exit = _direct.RunDirect(limit - s.Cycle);
        Tiers.DirectTierTicks += Now() - started;
        Tiers.InstructionsDirect += (long)(s.Executed - before);
        Statistics.InstructionsDirect = Tiers.InstructionsDirect;
        if (exit != ChunkExit.Trap)
        {
            return exit;
        }
        return EmulateTrap();
    }

    /// <summary>The monitor's side of trap and emulate: decode the trapping instruction and emulate it on the virtual hart.</summary>
    private ChunkExit EmulateTrap()
    {
        HartState s = S;
        long started = Now();
        try
        {
            Instruction i = _direct.TrappedInstruction;
            Tiers.CountTrap(i.Op);
            if (OpcodeInfo.IsMemory(i.Op))
            {
                // Atomics are emulated by the monitor too.
                if (Atomics.Execute(s, _mmu, i))
                {
                    s.Pc += 4;
                }
                else
                {
                    Hart.RaiseException(_mmu.FaultCause, _mmu.FaultValue);
                }
                s.Cycle++;
                return Hart.Attention != 0 ? ChunkExit.Attention : ChunkExit.Done;
            }
            SystemOutcome outcome = Hart.ExecuteSystem(i);
            s.Cycle++;
            s.X[0] = 0;
            switch (outcome)
            {
                case SystemOutcome.FlushCode:
                    FlushCode();
                    break;
                case SystemOutcome.Idle:
                    return ChunkExit.Idle;
            }
            return Hart.Attention != 0 ? ChunkExit.Attention : ChunkExit.Done;
        }
        finally
        {
            Tiers.MonitorTicks += Now() - started;
        }
    }
}

/// <summary>What the hybrid engine did, by technique.</summary>
public sealed class HybridStatistics
{
    public long InstructionsDirect;
    public long InstructionsTranslated;
    public long InstructionsInterpreted;
    public long Translations;
    public long DirectTierTicks;
    public long TranslationTierTicks;
    public long MonitorTicks;

    /// <summary>Traps from direct execution to the monitor, by the trapping instruction.</summary>
    public readonly long[] TrapsByOpcode = new long[(int)Opcode.Csrrci + 1];

    public long TotalTraps
    {
        get
        {
            long sum = 0;
            foreach (long n in TrapsByOpcode)
            {
                sum += n;
            }
            return sum;
        }
    }

    public void CountTrap(Opcode op) => TrapsByOpcode[(int)op]++;

    /// <summary>Traps grouped the way reports show them (csr, ecall, xret, wfi, sfence.vma, fence.i, atomic, illegal...).</summary>
    public IReadOnlyDictionary<string, long> TrapsByKind()
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int op = 0; op < TrapsByOpcode.Length; op++)
        {
            if (TrapsByOpcode[op] == 0)
            {
                continue;
            }
            string kind = (Opcode)op switch
            {
                >= Opcode.Csrrw and <= Opcode.Csrrci => "csr",
                Opcode.Mret or Opcode.Sret => "xret",
                >= Opcode.LrW and <= Opcode.AmomaxuW => "atomic",
                Opcode.Illegal or Opcode.Undecoded => "illegal",
                var o => Disassembler.Mnemonic(o),
            };
            result[kind] = result.GetValueOrDefault(kind) + TrapsByOpcode[op];
        }
        return result;
    }
}
