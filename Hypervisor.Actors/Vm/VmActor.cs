using System.Diagnostics;
using Akka.Actor;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Actors.Telemetry;
using Hypervisor.Cpu;
using Hypervisor.Engines;
using Hypervisor.Loading;
using Hypervisor.Machine;
using Hypervisor.Monitor;

namespace Hypervisor.Actors.Vm;

/// <summary>
/// Owns one guest machine and its engine. Runs a slice inside one message on the CPU-bound
/// dispatcher and answers <see cref="SliceCompleted"/>; sends what the guest printed to the
/// console actor; applies timestamped interrupt events at their exact virtual time.
/// </summary>
/// <remarks>
/// Behaviours: Ready (runs slices) and Paused (answers slices with <see cref="SliceEnd.Stopped"/>
/// and runs nothing). A host exception from the engine escapes as <see cref="VmHostException"/>
/// carrying the VM's state, for the supervisor's strategy. Guest faults are not exceptions: they
/// are a <see cref="SliceEnd"/>.
/// </remarks>
public sealed class VmActor : ReceiveActor
{
    /// <summary>The dispatcher (in hocon/hypervisor.conf) that runs VM actors: dedicated threads, one message per turn.</summary>
    public const string Dispatcher = "hypervisor.vm-dispatcher";

    private readonly VmSpec _spec;
    private readonly ElfImage _image;
    private readonly IActorRef _console;
    private readonly Func<IExecutionEngine, IExecutionEngine>? _wrapEngine;
    private readonly VmTelemetry _telemetry;
    private readonly MemoryStream _output = new();
    private VirtualMachine _vm = null!;
    private long _slices;
    private double _hostSeconds;
    private double _cpuSeconds;
    private long _consoleBytes;
    private bool _restarted;

    public VmActor(VmSpec spec, ElfImage image, IActorRef console, Func<IExecutionEngine, IExecutionEngine>? wrapEngine, VmTelemetry? telemetry = null)
    {
        _telemetry = telemetry ?? new VmTelemetry(null, spec.Name, 0, EngineFactory.Names(spec.Machine.Engine));
        _spec = spec;
        _image = image;
        _console = console;
        _wrapEngine = wrapEngine;
        Ready();
    }

    /// <summary>Props on the VM dispatcher. <paramref name="wrapEngine"/> decorates the engine (fault injection in tests).</summary>
    /// <paramref name="telemetry"/> (spans and metrics, docs/telemetry.md) outlives restarts of the actor; null = spans only.
    public static Props Props(VmSpec spec, ElfImage image, IActorRef console, Func<IExecutionEngine, IExecutionEngine>? wrapEngine = null,
        VmTelemetry? telemetry = null) =>
        Akka.Actor.Props.Create(() => new VmActor(spec, image, console, wrapEngine, telemetry)).WithDispatcher(Dispatcher);

    public VirtualMachine Machine => _vm;

    protected override void PreStart()
    {
        long created = Stopwatch.GetTimestamp();
        // A configured fault strikes the first boot only: a VM restarted from boot runs without it.
        Func<IExecutionEngine, IExecutionEngine>? wrap = _spec.FaultInjection.Enabled && !_restarted
            ? _spec.FaultInjection.Decorator(() => _vm.State, _wrapEngine)
            : _wrapEngine;
        _vm = new VirtualMachine(_spec.Name, _image, _spec.Machine, b => _output.WriteByte(b), wrap);
        _telemetry.Created(_vm, created);
        _telemetry.Attach(_vm.InterruptAccounting);
        foreach (DeviceSpec device in _spec.Devices.Where(d => d.DrivesGenerator))
        {
            _vm.Generator.AttachHost(device.Source); // before the guest runs: it sees the source in HOST_MAP
        }
        ScheduleConfiguredInput();
    }

    protected override void PostRestart(Exception reason)
    {
        _restarted = true; // the supervisor restarted this VM from boot (its restart policy)
        base.PostRestart(reason);
    }

    private bool IsVirtual => _vm.Clock.Mode == TimeMode.Virtual;

    private void Ready()
    {
        Receive<RunSlice>(OnRunSlice);
        Receive<Pause>(_ =>
        {
            Become(Paused);
            Sender.Tell(new VmPaused(_spec.Name, Stats()));
        });
        Receive<Resume>(_ => Sender.Tell(new VmResumed(_spec.Name)));
        Common();
    }

    private void Paused()
    {
        Receive<RunSlice>(m => Sender.Tell(Completed(m.Seq, new SliceStats(0, 0, 0), SliceEnd.Stopped)));
        Receive<Pause>(_ => Sender.Tell(new VmPaused(_spec.Name, Stats())));
        Receive<Resume>(_ =>
        {
            Become(Ready);
            Sender.Tell(new VmResumed(_spec.Name));
        });
        Common();
    }

    private void Common()
    {
        Receive<ScheduleInterrupt>(OnScheduleInterrupt);
        Receive<GeneratorEvents>(OnGeneratorEvents);
        Receive<FeedInput>(m =>
        {
            _vm.Uart.Receive(m.Bytes);
            Sender.Tell(new InputApplied(_spec.Name, VirtualTime(), m.Bytes.Length));
        });
        Receive<Reset>(_ =>
        {
            _vm.Reset();
            _telemetry.WasReset();
            ScheduleConfiguredInput();
            Sender.Tell(new VmWasReset(_spec.Name, Stats()));
        });
        Receive<Stop>(_ =>
        {
            FlushOutput();
            _telemetry.Stopping();
            Sender.Tell(new VmStopped(_spec.Name, Stats()));
            Context.Stop(Self);
        });
        Receive<GetStats>(_ => Sender.Tell(Stats()));
    }

    protected override void PostStop() => _telemetry.Ended();

    private void OnRunSlice(RunSlice m)
    {
        Activity? span = _telemetry.BeginSlice(m.Seq);
        long interruptsBefore = Interrupts();
        ulong executedBefore = _vm.State.Executed;
        long start = Stopwatch.GetTimestamp();
        double cpuStart = ThreadCpuClock.Seconds();
        SliceOutcome outcome;
        try
        {
            outcome = _vm.RunSlice(m.Budget, ToCycles(m.Horizon), ToCycles(m.IdleHorizon));
        }
        catch (Exception e)
        {
            _telemetry.Crashed(span, e);
            FlushOutput();
            throw new VmHostException(_spec.Name, Stats(), e);
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double cpu = ThreadCpuClock.Seconds() - cpuStart;
        _slices++;
        _hostSeconds += seconds;
        FlushOutput();
        var slice = new SliceStats(_vm.State.Executed - executedBefore, seconds, Interrupts() - interruptsBefore, double.IsNaN(cpu) ? 0 : Math.Max(0, cpu));
        _cpuSeconds += slice.CpuSeconds;
        SliceEnd reason = outcome.Reason switch
        {
            StopReason.BudgetExhausted => SliceEnd.BudgetExhausted,
            StopReason.HorizonReached => SliceEnd.HorizonReached,
            StopReason.Idle => SliceEnd.Idle,
            StopReason.PowerOff => SliceEnd.PowerOff,
            StopReason.GuestFault => SliceEnd.GuestFault,
            _ => SliceEnd.Stopped,
        };
        _telemetry.EndSlice(span, m.Seq, m.Budget, slice, reason);
        Sender.Tell(Completed(m.Seq, slice, reason));
    }

    private SliceCompleted Completed(long seq, SliceStats slice, SliceEnd reason)
    {
        ulong next = _vm.Events.NextDue;
        ulong ipt = _vm.Clock.InstructionsPerTick;
        ulong nextAt = next == ulong.MaxValue || !IsVirtual ? ulong.MaxValue : next / ipt + (next % ipt == 0 ? 0UL : 1UL);
        return new SliceCompleted(_spec.Name, seq, slice, Stats(), reason, nextAt, reason == SliceEnd.Idle ? RealtimeWakeAfter() : double.PositiveInfinity)
        {
            NeverWakes = reason == SliceEnd.Idle && NeverWakes(),
        };
    }

    /// <summary>
    /// True when nothing outside the sleeping guest can make mip &amp; mie non-zero: no machine timer
    /// interrupt enabled with a deadline set, no external interrupt enabled. (msip, SSIP and STIP
    /// only the guest itself could raise.)
    /// </summary>
    private bool NeverWakes()
    {
        uint mie = _vm.State.Mie;
        bool timer = (mie & InterruptBits.Mtip) != 0 && _vm.Clint.MtimeCmp != ulong.MaxValue;
        bool external = (mie & (InterruptBits.Meip | InterruptBits.Seip)) != 0;
        return !timer && !external;
    }

    /// <summary>Realtime mode: host seconds until the CLINT timer fires, if an enabled timer can wake the hart.</summary>
    private double RealtimeWakeAfter()
    {
        if (IsVirtual || (_vm.State.Mie & (InterruptBits.Mtip | InterruptBits.Stip)) == 0 || _vm.Clint.MtimeCmp == ulong.MaxValue)
        {
            return double.PositiveInfinity;
        }
        ulong now = _vm.Clock.Now;
        ulong cmp = _vm.Clint.MtimeCmp;
        return cmp <= now ? 0 : (cmp - now) / (VirtualClock.TimebaseHz * _vm.Clock.RealtimeScale);
    }

    /// <summary>Host traffic for the interrupt generator: each arrival at its exact cycle (virtual time), or now (realtime).</summary>
    private void OnGeneratorEvents(GeneratorEvents m)
    {
        Hypervisor.Devices.InterruptGenerator g = _vm.Generator;
        foreach (Hypervisor.Devices.EventRun run in m.Runs)
        {
            if (IsVirtual)
            {
                g.Publish(m.Source, run);
            }
            else
            {
                g.RaiseAt(m.Source, _vm.State.Cycle, (int)Math.Min(run.Events, int.MaxValue));
            }
        }
        if (m.Deferred > 0)
        {
            g.AddDeferred(m.Source, m.Deferred);
        }
        if (m.EndAt != ulong.MaxValue)
        {
            g.CloseAt(m.Source, IsVirtual ? m.EndAt : 0);
        }
    }

    private void OnScheduleInterrupt(ScheduleInterrupt m)
    {
        int source = m.Source;
        bool level = m.Level;
        ulong at = Math.Max(ToCycles(m.At), _vm.State.Cycle);
        if (!IsVirtual)
        {
            at = _vm.State.Cycle; // realtime: applied when it arrives
        }
        _vm.Events.Schedule(at, () => _vm.Plic.SetLine(source, level));
    }

    private void ScheduleConfiguredInput()
    {
        byte[] input = _spec.Console.Input;
        if (input.Length == 0)
        {
            return;
        }
        if (!IsVirtual)
        {
            _vm.Uart.Receive(input);
            return;
        }
        _vm.Events.Schedule(ToCycles(_spec.Console.InputAtTicks), () =>
        {
            _vm.Uart.Receive(input);
            _vm.Uart.PollInput(); // at this exact instruction, not at the next slice
        });
    }

    private ulong ToCycles(ulong ticks)
    {
        if (ticks == ulong.MaxValue || !IsVirtual)
        {
            return ulong.MaxValue;
        }
        UInt128 c = (UInt128)ticks * _vm.Clock.InstructionsPerTick;
        return c >= ulong.MaxValue ? ulong.MaxValue : (ulong)c;
    }

    private ulong VirtualTime() => IsVirtual ? _vm.State.Cycle / _vm.Clock.InstructionsPerTick : _vm.Clock.Now;

    private long Interrupts()
    {
        long n = 0;
        foreach (long c in _vm.Hart.InterruptsTaken)
        {
            n += c;
        }
        return n;
    }

    private void FlushOutput()
    {
        if (_output.Length == 0)
        {
            return;
        }
        byte[] bytes = _output.ToArray();
        _output.SetLength(0);
        _consoleBytes += bytes.Length;
        _console.Tell(new ConsoleOutput(_spec.Name, bytes));
    }

    private VmStats Stats()
    {
        HartState s = _vm.State;
        long exceptions = 0;
        foreach (long c in _vm.Hart.ExceptionsRaised)
        {
            exceptions += c;
        }
        return new VmStats(_spec.Name, _vm.Engine.Name, IsVirtual ? "virtual" : "realtime",
            s.Instret, s.Executed, s.Cycle, VirtualTime(), Interrupts(), exceptions,
            _vm.Ram.ResidentBytes, _vm.Ram.QuotaRefusals, _slices, _hostSeconds, _consoleBytes, _vm.Resets,
            _vm.ExitCode, _vm.Fault?.ToString(), _vm.InterruptAccounting.Active ? _vm.InterruptAccounting.Snapshot() : null, _cpuSeconds);
    }
}
