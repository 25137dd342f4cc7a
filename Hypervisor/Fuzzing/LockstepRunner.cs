using System.Text;
using Hypervisor.Cpu;
using Hypervisor.Engines;
using Hypervisor.Engines.Hybrid;
using Hypervisor.Loading;
using Hypervisor.Machine;

namespace Hypervisor.Fuzzing;

/// <summary>How the lockstep runner builds and drives the two VMs.</summary>
public sealed record LockstepOptions
{
    /// <summary>The oracle (DESIGN.md §2: the interpreter).</summary>
    public EngineKind EngineA { get; init; } = EngineKind.Interpreter;

    /// <summary>The engine under test.</summary>
    public EngineKind EngineB { get; init; } = EngineKind.BinaryTranslator;

    /// <summary>Translation threshold for translating engines: 1 = every block is compiled on first entry.</summary>
    public int? TranslationThreshold { get; init; } = 1;

    /// <summary>The hybrid engine's policy, when an engine is the hybrid.</summary>
    public HybridPolicy HybridPolicy { get; init; } = HybridPolicy.ModeSplit;

    /// <summary>The hybrid's hot-threshold policy: executions of a block before it is translated (low, so short programs reach it).</summary>
    public int HotThreshold { get; init; } = 2;

    /// <summary>Slices are 1..MaxSlice instructions (one in four up to 4 x MaxSlice), the same sizes on both engines.</summary>
    public int MaxSlice { get; init; } = 50;

    /// <summary>Executed instructions after which a program that has not stopped is cut off (shrunk programs may loop).</summary>
    public ulong MaxInstructions { get; init; } = 20_000;

    /// <summary>Wraps engine B once its VM exists (test-only planted bugs, tracing). Null = the engine as built.</summary>
    public Func<VirtualMachine, IExecutionEngine, IExecutionEngine>? DecorateB { get; init; }

    /// <summary>Wraps engine A once its VM exists.</summary>
    public Func<VirtualMachine, IExecutionEngine, IExecutionEngine>? DecorateA { get; init; }
}

public enum LockstepVerdict
{
    /// <summary>Both engines agreed after every slice.</summary>
    Agreed,

    /// <summary>The architectural state differed after a slice.</summary>
    Diverged,

    /// <summary>An engine threw (a host bug: a guest must never make the host throw).</summary>
    HostException,
}

/// <summary>Where and how two engines parted.</summary>
/// <param name="Slice">Index of the slice after which the difference was seen (0-based).</param>
/// <param name="SliceBudget">That slice's instruction budget.</param>
/// <param name="ExecutedBefore">Instructions engine A had executed before that slice.</param>
/// <param name="Difference">The first differing field (null for a host exception).</param>
/// <param name="Exception">The host exception, with the engine that threw it.</param>
/// <param name="PcBefore">Engine A's pc at the start of the slice.</param>
public sealed record Divergence(
    int Slice,
    ulong SliceBudget,
    ulong ExecutedBefore,
    uint PcBefore,
    FieldDifference? Difference,
    string? Exception)
{
    public string Summary => Exception is not null
        ? $"host exception in slice {Slice}: {Exception.Split('\n')[0]}"
        : $"slice {Slice} (budget {SliceBudget}, from pc 0x{PcBefore:x8} after {ExecutedBefore} instructions): {Difference}";
}

/// <summary>The outcome of running one program in lockstep.</summary>
public sealed record LockstepResult(
    LockstepVerdict Verdict,
    ulong Instructions,
    int Slices,
    string End,
    Divergence? Divergence,
    string EngineA,
    string EngineB)
{
    public bool Agreed => Verdict == LockstepVerdict.Agreed;

    /// <summary>Instructions engine B ran in translated blocks (the rest it interpreted).</summary>
    public long TranslatedB { get; init; }

    /// <summary>Blocks engine B compiled.</summary>
    public long BlocksB { get; init; }
}

/// <summary>
/// Runs one program on two engines from the same image in lockstep: slices of pseudo-random size
/// (the same on both), and after every slice compares the whole architectural state
/// (<see cref="StateComparer"/>). Engine A is the oracle. An exception thrown by either engine is a
/// finding too.
/// </summary>
public sealed class LockstepRunner
{
    public LockstepRunner(LockstepOptions? options = null)
    {
        Options = options ?? new LockstepOptions();
        if (Options.MaxSlice < 1)
        {
            throw new ArgumentException("MaxSlice must be at least 1");
        }
    }

    public LockstepOptions Options { get; }

    /// <summary>Runs <paramref name="program"/>; slice sizes come from its seed.</summary>
    public LockstepResult Run(FuzzProgram program) => Run(program.ToElfImage($"fuzz-{program.Seed}"), program.Seed);

    /// <summary>Runs an ELF image (a replay of a written reproducer); slice sizes come from <paramref name="sliceSeed"/>.</summary>
    public LockstepResult Run(ElfImage image, int sliceSeed)
    {
        string nameA = EngineFactory.Names(Options.EngineA), nameB = EngineFactory.Names(Options.EngineB);
        VirtualMachine a, b;
        List<byte> outA = [], outB = [];
        try
        {
            a = Build(image, Options.EngineA, Options.DecorateA, outA);
        }
        catch (Exception e) when (e is not NotSupportedException)
        {
            return new(LockstepVerdict.HostException, 0, 0, "construction", new Divergence(0, 0, 0, image.Entry, null, $"{nameA}: {e}"), nameA, nameB);
        }
        try
        {
            b = Build(image, Options.EngineB, Options.DecorateB, outB);
        }
        catch (Exception e) when (e is not NotSupportedException)
        {
            return new(LockstepVerdict.HostException, 0, 0, "construction", new Divergence(0, 0, 0, image.Entry, null, $"{nameB}: {e}"), nameA, nameB);
        }

        int slice = 0;
        LockstepResult Agreed(string end) => new(LockstepVerdict.Agreed, a.State.Executed, slice, end, null, nameA, nameB)
        {
            TranslatedB = b.Engine.Statistics.InstructionsTranslated,
            BlocksB = b.Engine.Statistics.BlocksTranslated,
        };

        var sizes = new Random(sliceSeed ^ 0x5EED_51CE);
        while (true)
        {
            // Mostly 1..MaxSlice; one slice in four up to 4 x MaxSlice, so that long translated
            // regions (a block only runs translated when it fits in what is left of the slice) run too.
            int most = sizes.Next(4) == 0 ? 4 * Options.MaxSlice : Options.MaxSlice;
            ulong budget = (ulong)sizes.Next(1, most + 1);
            ulong before = a.State.Executed;
            uint pcBefore = a.State.Pc;
            SliceOutcome oa, ob;
            try
            {
                oa = a.RunSlice(budget);
            }
            catch (Exception e)
            {
                return Found(LockstepVerdict.HostException, new Divergence(slice, budget, before, pcBefore, null, $"{nameA}: {e}"), a, slice, nameA, nameB);
            }
            try
            {
                ob = b.RunSlice(budget);
            }
            catch (Exception e)
            {
                return Found(LockstepVerdict.HostException, new Divergence(slice, budget, before, pcBefore, null, $"{nameB}: {e}"), a, slice, nameA, nameB);
            }
            FieldDifference? difference = oa.Reason != ob.Reason
                ? new FieldDifference("slice stop reason", oa.Reason.ToString(), ob.Reason.ToString())
                : oa.Executed != ob.Executed
                    ? new FieldDifference("instructions executed in the slice", oa.Executed.ToString(), ob.Executed.ToString())
                    : StateComparer.FirstDifference(a, b) ?? ConsoleDifference(outA, outB);
            if (difference is not null)
            {
                return Found(LockstepVerdict.Diverged, new Divergence(slice, budget, before, pcBefore, difference, null), a, slice, nameA, nameB);
            }
            slice++;
            if (oa.Reason is StopReason.PowerOff or StopReason.GuestFault or StopReason.Idle)
            {
                return Agreed(EndName(a, oa.Reason));
            }
            if (a.State.Executed >= Options.MaxInstructions)
            {
                return Agreed("instruction limit");
            }
        }
    }

    private static LockstepResult Found(LockstepVerdict verdict, Divergence d, VirtualMachine a, int slice, string nameA, string nameB) =>
        new(verdict, a.State.Executed, slice + 1, verdict == LockstepVerdict.Diverged ? "diverged" : "host exception", d, nameA, nameB);

    private static string EndName(VirtualMachine vm, StopReason reason) => reason switch
    {
        StopReason.PowerOff => vm.ExitCode == 0 ? "power-off (pass)" : $"power-off (code {vm.ExitCode})",
        StopReason.GuestFault => "fatal guest fault",
        _ => "idle",
    };

    private static FieldDifference? ConsoleDifference(List<byte> a, List<byte> b)
    {
        if (a.Count == b.Count && System.Runtime.InteropServices.CollectionsMarshal.AsSpan(a).SequenceEqual(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(b)))
        {
            return null;
        }
        static string Tail(List<byte> x) => $"{x.Count} bytes, ending {Convert.ToHexString([.. x.TakeLast(8)])}";
        return new FieldDifference("UART output", Tail(a), Tail(b));
    }

    private VirtualMachine Build(ElfImage image, EngineKind kind, Func<VirtualMachine, IExecutionEngine, IExecutionEngine>? decorate,
        List<byte> console)
    {
        var config = new MachineConfig
        {
            Engine = kind,
            MemorySize = FuzzLayout.MemorySize,
            TranslationThreshold = Options.TranslationThreshold,
            HybridPolicy = Options.HybridPolicy,
            HotThreshold = Options.HotThreshold,
        };
        if (decorate is null)
        {
            return new VirtualMachine(image.Path, image, config, console.Add);
        }
        // The decorator needs the VM (its hart, RAM), which exists only once the constructor returns:
        // the VM runs a forwarding engine that is pointed at the decorated one right after.
        ForwardingEngine? forwarding = null;
        var vm = new VirtualMachine(image.Path, image, config, console.Add, inner => forwarding = new ForwardingEngine(inner));
        forwarding!.Target = decorate(vm, forwarding.Target);
        return vm;
    }

    /// <summary>Forwards to an engine chosen after the VM is built.</summary>
    private sealed class ForwardingEngine(IExecutionEngine target) : IExecutionEngine
    {
        public IExecutionEngine Target { get; set; } = target;

        public string Name => Target.Name;

        public EngineStatistics Statistics => Target.Statistics;

        public StopReason Run(ulong budget) => Target.Run(budget);

        public void FlushCode() => Target.FlushCode();
    }

    /// <summary>A plain-text report of a finding: what differed, where, and the program.</summary>
    public static string Report(FuzzProgram program, LockstepResult result, string? title = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine(title ?? $"lockstep {result.EngineA} (oracle) vs {result.EngineB}: {result.Verdict}");
        if (result.Divergence is Divergence d)
        {
            sb.AppendLine(d.Summary);
            if (d.Exception is not null)
            {
                sb.AppendLine(d.Exception);
            }
        }
        sb.AppendLine($"{result.Instructions} instructions in {result.Slices} slices; end: {result.End}");
        sb.AppendLine();
        sb.Append(program.Disassemble());
        return sb.ToString();
    }
}
