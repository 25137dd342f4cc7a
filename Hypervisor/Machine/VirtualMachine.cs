using Hypervisor.Cpu;
using Hypervisor.Devices;
using Hypervisor.Engines;
using Hypervisor.Engines.Interpreter;
using Hypervisor.Loading;
using Hypervisor.Memory;
using Hypervisor.Monitor;
using Hypervisor.Profiling;

namespace Hypervisor.Machine;

/// <summary>Where a VM is in its life.</summary>
public enum VmState
{
    Running,
    Idle,
    PoweredOff,
    Faulted,
}

/// <summary>What one call to <see cref="VirtualMachine.RunSlice(ulong, ulong, ulong)"/> did.</summary>
public readonly record struct SliceOutcome(StopReason Reason, ulong Executed, ulong NextEventCycle);

/// <summary>
/// One guest machine (the composition root of DESIGN.md §1): RAM, bus, devices, hart, clock,
/// event queue and engine, wired through constructors. No Akka here: actors drive it from outside.
/// </summary>
public sealed partial class VirtualMachine
{
    private readonly ElfImage _image;

    // wrapEngine: an optional decorator around the engine the config names (fault injection,
    // tracing); it receives the engine and returns the one the VM runs.
    public VirtualMachine(string name, ElfImage image, MachineConfig config, Action<byte>? consoleOutput = null,
        Func<IExecutionEngine, IExecutionEngine>? wrapEngine = null)
    {
        config.Validate();
        Name = name;
        Config = config;
        _image = image;
        ConsoleOutput = consoleOutput ?? (_ => { });

        Ram = new GuestRam(config.MemorySize, GuestRam.DefaultBase, config.MemoryQuota ?? long.MaxValue);
        Bus = new SystemBus(Ram);
        State = new HartState();
        Events = new EventScheduler();
        Clock = new VirtualClock(State, config.TimeMode, config.InstructionsPerTick, config.RealtimeScale);
        Mmu = new Mmu(State, Bus);
        Hart = new Hart(State, Mmu, Clock, Events);

        Plic = new Plic(Hart);
        Clint = new Clint(Hart, Clock, Events);
        Uart = new Uart16550(b => ConsoleOutput(b), Plic);
        Finisher = new TestFinisher(OnFinisher);
        Bus.Map(TestFinisher.DefaultBase, Finisher);
        Bus.Map(Clint.DefaultBase, Clint);
        Bus.Map(Plic.DefaultBase, Plic);
        Bus.Map(Uart16550.DefaultBase, Uart);
        Generator = new InterruptGenerator(Plic, State, Clock, Events);
        Bus.Map(InterruptGenerator.DefaultBase, Generator);
        Plic.Claimed += Generator.OnClaimed;
        Hart.TrapTaken += OnTrapTaken;
        Bus.ToHostWritten = OnToHost;

        IExecutionEngine engine = EngineFactory.Create(config, Hart, Bus);
        Engine = wrapEngine is null ? engine : wrapEngine(engine);
        LoadImage();
    }

    public string Name { get; }

    public MachineConfig Config { get; }

    public ElfImage Image => _image;

    public Action<byte> ConsoleOutput { get; set; }

    public GuestRam Ram { get; }

    public SystemBus Bus { get; }

    public HartState State { get; }

    public Hart Hart { get; }

    public Mmu Mmu { get; }

    public EventScheduler Events { get; }

    public VirtualClock Clock { get; }

    public Plic Plic { get; }

    public Clint Clint { get; }

    public Uart16550 Uart { get; }

    /// <summary>The interrupt generator (PLIC sources 32..63) that storms drive; see docs/interrupt-generator.md.</summary>
    public InterruptGenerator Generator { get; }

    /// <summary>The VM's interrupt accounting: per generator source raised, delivered, coalesced, deferred, lost, and the latency histograms.</summary>
    public InterruptAccounting InterruptAccounting => Generator.Accounting;

    public TestFinisher Finisher { get; }

    public IExecutionEngine Engine { get; }

    public VmState VmState { get; private set; } = VmState.Running;

    /// <summary>The guest's exit code once powered off: 0 = pass, otherwise its fail code.</summary>
    public int? ExitCode { get; private set; }

    /// <summary>The fatal fault, if the VM stopped on one.</summary>
    public GuestFaultReport? Fault => Hart.Fault;

    /// <summary>Times the guest asked for a reset.</summary>
    public int Resets { get; private set; }

    private bool _resetRequested;

    private void LoadImage()
    {
        Ram.Clear();
        foreach (LoadSegment seg in _image.Segments)
        {
            if (!Ram.Contains(seg.PhysicalAddress) || (ulong)seg.PhysicalAddress - Ram.Base + seg.MemorySize > Ram.Size)
            {
                throw new ElfLoadException(
                    $"{_image.Path}: segment at 0x{seg.PhysicalAddress:x8} (+0x{seg.MemorySize:x}) lies outside RAM " +
                    $"0x{Ram.Base:x8}..0x{Ram.Base + Ram.Size - 1:x8}");
            }
            if (!Ram.WriteBytes(seg.PhysicalAddress - Ram.Base, seg.Data))
            {
                throw new ElfLoadException($"{_image.Path}: the image does not fit in the VM's memory quota");
            }
        }
        if (!Ram.Contains(_image.Entry) || (_image.Entry & 3) != 0)
        {
            throw new ElfLoadException($"{_image.Path}: entry point 0x{_image.Entry:x8} is not an aligned address in RAM");
        }
        Bus.ToHostAddress = _image.FindSymbol("tohost");
        State.Reset(_image.Entry);
        State.X[10] = 0; // a0 = hart id
        State.X[11] = 0; // a1 = no device tree
        Events.Clear();
        Clint.Reset();
        Generator.Reset();
        Engine?.FlushCode();
        Bus.ClearCodePages();
        Hart.Resynchronize();
        VmState = VmState.Running;
        ExitCode = null;
    }

    /// <summary>The control-flow profile being recorded, if profiling is on.</summary>
    public ControlFlowProfile? Profile { get; private set; }

    /// <summary>The binary patcher, when profiling by patching.</summary>
    public BinaryPatcher? Patcher { get; private set; }

    /// <summary>
    /// Starts recording every control transfer (call before running): by binary patching of the
    /// image (any engine) or by the engine's own instrumentation.
    /// </summary>
    public ControlFlowProfile StartProfiling(ProfileMethod method)
    {
        if (Profile is not null)
        {
            throw new InvalidOperationException("profiling is already on");
        }
        var profile = new ControlFlowProfile(State.Pc);
        if (method == ProfileMethod.Patch)
        {
            Patcher = new BinaryPatcher(Hart, Bus, profile);
            Patcher.Start();
        }
        else if (Engine is IProfilingEngine instrumented)
        {
            instrumented.Profile = profile;
        }
        else
        {
            throw new NotSupportedException($"the {Engine.Name} engine cannot profile by instrumentation; use the patch method");
        }
        Engine.FlushCode();
        Hart.Profile = profile;
        Profile = profile;
        return profile;
    }

    /// <summary>Power-on reset: reloads the image and starts again from the entry point.</summary>
    public void Reset()
    {
        Resets++;
        LoadImage();
        Patcher?.Start(); // a fresh image needs its patches again
    }

    private void OnFinisher(FinisherRequest request, int code)
    {
        switch (request)
        {
            case FinisherRequest.Pass:
                PowerOff(0);
                break;
            case FinisherRequest.Fail:
                PowerOff(code == 0 ? 1 : code);
                break;
            case FinisherRequest.Reset:
                _resetRequested = true;
                Hart.RequestStop(StopReason.Stopped);
                break;
        }
    }

    private void OnToHost(uint value)
    {
        // HTIF as Spike has it: an odd value ends the run, 1 = pass, otherwise code = value >> 1.
        if ((value & 1) != 0)
        {
            PowerOff((int)(value >> 1));
        }
    }

    private void PowerOff(int code)
    {
        ExitCode = code;
        Hart.RequestStop(StopReason.PowerOff);
    }

    /// <summary>
    /// Runs at most <paramref name="budget"/> instructions and never past cycle <paramref name="horizon"/>.
    /// WFI with nothing pending skips virtual time to the next event (within the horizon) and carries on;
    /// with no event ever due the slice ends <see cref="StopReason.Idle"/>.
    /// </summary>
    public SliceOutcome RunSlice(ulong budget, ulong horizon = ulong.MaxValue) => RunSlice(budget, horizon, horizon);

    /// <summary>
    /// As <see cref="RunSlice(ulong, ulong)"/>, with a separate, lower bound for idle time:
    /// WFI skips virtual time at most to <paramref name="idleHorizon"/> (a fleet scheduler keeps
    /// sleeping VMs in step with the fleet's clock this way) while executing instructions may go on
    /// to <paramref name="horizon"/>. A VM that ended its last slice idle in WFI goes on waiting
    /// where it was: it does not run the guest's idle loop again, so where slices end never changes
    /// what the guest executes.
    /// </summary>
    public SliceOutcome RunSlice(ulong budget, ulong horizon, ulong idleHorizon)
    {
        if (VmState is VmState.PoweredOff or VmState.Faulted)
        {
            return new SliceOutcome(VmState == VmState.Faulted ? StopReason.GuestFault : StopReason.PowerOff, 0, ulong.MaxValue);
        }
        idleHorizon = Math.Min(idleHorizon, horizon);
        ulong start = State.Executed;
        if (VmState == VmState.Idle && !SkipIdleTime(idleHorizon))
        {
            return Outcome(StopReason.Idle, start);
        }
        VmState = VmState.Running;
        while (true)
        {
            Uart.PollInput();
            ulong done = State.Executed - start;
            if (done >= budget)
            {
                return Outcome(StopReason.BudgetExhausted, start);
            }
            if (State.Cycle >= horizon)
            {
                return Outcome(StopReason.HorizonReached, start);
            }
            ulong allowed = Math.Min(budget - done, horizon - State.Cycle);
            StopReason reason = Engine.Run(allowed);
            switch (reason)
            {
                case StopReason.BudgetExhausted:
                    continue;
                case StopReason.PowerOff:
                    VmState = VmState.PoweredOff;
                    return Outcome(reason, start);
                case StopReason.GuestFault:
                    VmState = VmState.Faulted;
                    return Outcome(reason, start);
                case StopReason.Stopped:
                    if (_resetRequested)
                    {
                        _resetRequested = false;
                        Reset();
                        continue;
                    }
                    return Outcome(reason, start);
                case StopReason.Idle:
                    if (!SkipIdleTime(idleHorizon))
                    {
                        VmState = VmState.Idle;
                        return Outcome(StopReason.Idle, start);
                    }
                    continue;
                default:
                    return Outcome(reason, start);
            }
        }
    }

    /// <summary>
    /// WFI with nothing pending: jumps virtual time to the next event (or the horizon). False when
    /// the hart cannot wake within this slice: no event before the horizon in virtual time, or realtime mode.
    /// </summary>
    private bool SkipIdleTime(ulong horizon)
    {
        if ((State.Mip & State.Mie) != 0)
        {
            return true; // woken already
        }
        Uart.PollInput();
        if ((State.Mip & State.Mie) != 0)
        {
            return true;
        }
        if (Clock.Mode == TimeMode.Realtime)
        {
            // Host time moves on by itself: look at the timer again; the caller waits between tries.
            Clint.UpdateTimer();
            return (State.Mip & State.Mie) != 0;
        }
        ulong next = Events.NextDue;
        if (next == ulong.MaxValue)
        {
            return false;
        }
        ulong target = Math.Min(next, horizon);
        if (target > State.Cycle)
        {
            State.IdleCycles += target - State.Cycle;
            State.Cycle = target;
        }
        if (State.Cycle >= next)
        {
            Events.RunDue(State.Cycle);
            return true;
        }
        return false;
    }

    /// <summary>An external-interrupt handler's first instruction: the generator's latency for the source the PLIC would hand out ends here.</summary>
    private void OnTrapTaken(uint cause, Privilege mode)
    {
        if ((cause & InterruptBits.CauseInterruptFlag) == 0)
        {
            return;
        }
        uint code = cause & 31;
        if (code is 11 or 9)
        {
            Generator.HandlerEntered(Plic.BestPending(code == 11 ? 0 : 1));
        }
    }

    private SliceOutcome Outcome(StopReason reason, ulong start) =>
        new(reason, State.Executed - start, Events.NextDue);
}
