using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Actors.Monitor;
using Hypervisor.Actors.Scheduling;
using Hypervisor.Actors.Telemetry;
using Hypervisor.Actors.Timers;
using Hypervisor.Actors.Vm;
using Hypervisor.Engines;
using Hypervisor.Loading;
using Hypervisor.Monitor;

namespace Hypervisor.Actors.Supervision;

/// <summary>Hooks a host gives the supervisor: where output goes, and (for tests and fault injection) an engine decorator per VM.</summary>
public sealed record SupervisorOptions
{
    /// <summary>Folder for per-VM transcripts; null = none.</summary>
    public string? OutputDir { get; init; }

    /// <summary>Where complete, prefixed console lines go; null = nowhere.</summary>
    public IConsoleSink? Terminal { get; init; }

    /// <summary>Decorates the engine of a VM (the spec's name tells which); null = plain engines.</summary>
    public Func<VmSpec, Func<IExecutionEngine, IExecutionEngine>?>? WrapEngine { get; init; }
}

/// <summary>
/// The root of the fleet (DESIGN.md §4): builds a VM actor per VM of the scenario, keeps the run
/// queue (<see cref="FleetScheduler"/>), grants <see cref="RunSlice"/> to at most host-parallelism
/// VMs at once, parks idle VMs and wakes them by the fleet's virtual clock (virtual mode) or the
/// timer actor (realtime mode), routes device interrupts that passed the monitor, and supervises:
/// a VM whose engine throws is stopped (or restarted, by its policy) and reported; the others carry on.
/// </summary>
public sealed class HypervisorSupervisor : ReceiveActor, IWithTimers
{
    private const int MaxRestarts = 3;

    private readonly Scenario _scenario;
    private readonly SupervisorOptions _options;
    private readonly FleetScheduler _scheduler;
    private readonly FleetTelemetry _telemetry;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<VmSlot> _slots = [];
    private readonly List<IActorRef> _waiters = [];
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private IActorRef _console = ActorRefs.Nobody;
    private IActorRef _monitor = ActorRefs.Nobody;
    private IActorRef _timer = ActorRefs.Nobody;
    private bool _interrupted;
    private string? _stopReason;
    private bool _timeLimit;
    private bool _completing;
    private FleetStatus? _final;
    private ulong _publishedFleetTime;

    private sealed class VmSlot(VmSpec spec, IActorRef actor, VmStats stats)
    {
        public readonly VmSpec Spec = spec;
        public IActorRef Actor = actor;
        public VmStats Stats = stats;
        public long Seq;
        public string? Error;
        public int Restarts;
        public readonly List<IActorRef> Devices = [];
    }

    public HypervisorSupervisor(Scenario scenario, SupervisorOptions options)
    {
        _scenario = scenario;
        _options = options;
        HypervisorSettings s = scenario.Settings;
        _scheduler = new FleetScheduler(s.HostParallelism, s.SliceInstructions, s.IdleLookaheadTicks, s.SourceWindowTicks)
        {
            CapPeriodSeconds = s.CapPeriod.TotalSeconds,
        };
        _telemetry = FleetTelemetry.For(scenario);

        Receive<SliceCompleted>(OnSliceCompleted);
        Receive<ScheduleInterrupt>(OnInterrupt);
        Receive<GeneratorEvents>(OnGeneratorEvents);
        Receive<SourceHorizon>(m => WithVm(m.Vm, id => _scheduler.Promised(id, m.Source, m.Until)));
        Receive<WakeDue>(m =>
        {
            _scheduler.Wake(m.VmId, m.Generation);
            Dispatch();
        });
        Receive<CapPeriodTick>(_ =>
        {
            _scheduler.NewCapPeriod();
            Dispatch();
        });
        Receive<FeedInput>(m => WithVm(m.Vm, id =>
        {
            _slots[id].Actor.Tell(m);
            _scheduler.Wake(id);
        }));
        Receive<InputApplied>(m => _log.Info("{0}: {1} input bytes applied at virtual time {2}", m.Vm, m.Bytes, m.At));
        Receive<PauseVm>(m => WithVm(m.Vm, id =>
        {
            _scheduler.Pause(id);
            _slots[id].Actor.Tell(Pause.Instance);
        }));
        Receive<VmPaused>(m => Record(m.Vm, m.Stats));
        Receive<ResumeVm>(m => WithVm(m.Vm, id => _slots[id].Actor.Tell(Resume.Instance)));
        Receive<VmResumed>(m => WithVm(m.Vm, id => _scheduler.Resume(id)));
        Receive<ResetVm>(m => WithVm(m.Vm, id =>
        {
            if (_scheduler.Vms[id].Phase is not VmPhase.Crashed and not VmPhase.Stopped)
            {
                _slots[id].Actor.Tell(Reset.Instance);
            }
        }));
        Receive<VmWasReset>(m => WithVm(m.Vm, id =>
        {
            _slots[id].Stats = m.Stats;
            _scheduler.WasReset(id, m.Stats.VirtualTime);
        }));
        Receive<StopVm>(m => WithVm(m.Vm, StopOne));
        Receive<VmStopped>(m => Record(m.Vm, m.Stats));
        Receive<StopFleet>(m =>
        {
            _log.Info("stopping the fleet: {0}", m.Reason);
            if (!_interrupted)
            {
                _interrupted = true;
                _stopReason = m.Reason;
                _timeLimit = m.TimeLimit;
            }
            for (int id = 0; id < _slots.Count; id++)
            {
                StopOne(id);
            }
            Dispatch();
        });
        Receive<VmCrashed>(OnCrashed);
        Receive<GetFleetStatus>(_ => Sender.Tell(Status()));
        Receive<WaitForFleet>(_ =>
        {
            if (_final is not null)
            {
                Sender.Tell(new FleetCompleted(_final, _interrupted, _stopReason, _timeLimit));
            }
            else
            {
                _waiters.Add(Sender);
            }
        });
        Receive<ConsoleFlushed>(_ =>
        {
            _final = Status();
            _telemetry.Completed(_final.SlicesGranted, _interrupted, _stopReason);
            foreach (IActorRef w in _waiters)
            {
                w.Tell(new FleetCompleted(_final, _interrupted, _stopReason, _timeLimit));
            }
            _waiters.Clear();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Scenario scenario, SupervisorOptions? options = null) =>
        Akka.Actor.Props.Create(() => new HypervisorSupervisor(scenario, options ?? new SupervisorOptions()));

    protected override void PreStart()
    {
        HypervisorSettings s = _scenario.Settings;
        _console = Context.ActorOf(ConsoleActor.Props(_options.OutputDir, _options.Terminal), "console");
        _monitor = Context.ActorOf(MonitorActor.Props(Self), "monitor");
        _timer = Context.ActorOf(TimerActor.Props(Self, s.RealtimeWakeSlack), "timer");
        var images = new Dictionary<string, ElfImage>(StringComparer.Ordinal);
        foreach (VmSpec spec in _scenario.Vms)
        {
            string? loadError = null;
            if (!images.TryGetValue(spec.ImagePath, out ElfImage? image))
            {
                try
                {
                    image = ElfImage.Load(spec.ImagePath);
                    images[spec.ImagePath] = image;
                }
                catch (Exception e) when (e is ElfLoadException or IOException)
                {
                    loadError = e.Message; // the file changed since the scenario was checked
                }
            }
            IActorRef actor = image is null
                ? ActorRefs.Nobody
                : Context.ActorOf(VmActor.Props(spec, image, _console, _options.WrapEngine?.Invoke(spec),
                    new VmTelemetry(_telemetry, spec.Name, _slots.Count, EngineName(spec))), spec.Name);
            bool isVirtual = spec.Machine.TimeMode == TimeMode.Virtual;
            var slot = new VmSlot(spec, actor, VmStats.Empty(spec.Name, EngineName(spec), isVirtual ? "virtual" : "realtime"));
            int id = _scheduler.Add(spec.Name, spec.Weight, spec.CapPercent, spec.SliceQuota, isVirtual, isVirtual ? spec.Devices.Count : 0);
            _ids[spec.Name] = id;
            _slots.Add(slot);
            if (loadError is not null)
            {
                slot.Error = "could not load the image: " + loadError;
                _log.Error("{0}: {1}", spec.Name, slot.Error);
                _scheduler.Crashed(id, restart: false);
            }
            _monitor.Tell(new RegisterVm(spec.Name, spec.InterruptRateLimit, spec.Machine.MemoryQuota, isVirtual ? spec.Devices.Count : 0));
            for (int d = 0; d < spec.Devices.Count; d++)
            {
                DeviceSpec device = spec.Devices[d];
                Props props = device.DrivesGenerator
                    ? TrafficDeviceActor.Props(spec.Name, d, device, _monitor)
                    : PulseDeviceActor.Props(spec.Name, d, device, _monitor);
                slot.Devices.Add(Context.ActorOf(props, $"{spec.Name}.dev{d}"));
            }
        }
        if (_scenario.Vms.Any(v => v.CapPercent > 0))
        {
            Timers.StartPeriodicTimer("cap-period", CapPeriodTick.Instance, s.CapPeriod);
        }
        if (s.StopAfter is TimeSpan limit)
        {
            Timers.StartSingleTimer("stop-after", new StopFleet($"time limit of {limit.TotalSeconds:0.###} s reached", TimeLimit: true), limit);
        }
        _log.Info("fleet of {0} VMs on {1} host slots", _slots.Count, s.HostParallelism);
        Dispatch();
    }

    protected override void PostStop() => _telemetry.Dispose();

    // Akka's own failure log is off: the VM's telemetry logs the exception once, with the VM's name.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(-1, -1, Decide, loggingEnabled: false);

    private Directive Decide(Exception e)
    {
        if (e is VmHostException crash && _ids.TryGetValue(crash.Vm, out int id))
        {
            VmSlot slot = _slots[id];
            bool restart = slot.Spec.Restart == RestartPolicy.Restart && slot.Restarts < MaxRestarts;
            Self.Tell(new VmCrashed(crash.Vm, crash.Stats, crash.Problem + (restart ? " (restarting from boot)" : "")));
            return restart ? Directive.Restart : Directive.Stop;
        }
        if (e is ActorInitializationException init && init.Actor is { } failed && _ids.TryGetValue(failed.Path.Name, out int vm))
        {
            Self.Tell(new VmCrashed(failed.Path.Name, _slots[vm].Stats, "could not build the VM: " + (init.InnerException?.Message ?? init.Message)));
            return Directive.Stop;
        }
        _log.Error(e, "host exception in a fleet actor");
        return Directive.Restart;
    }

    private void OnCrashed(VmCrashed m)
    {
        if (!_ids.TryGetValue(m.Vm, out int id))
        {
            return;
        }
        VmSlot slot = _slots[id];
        slot.Stats = m.Stats;
        slot.Error = m.Error;
        slot.Seq++;
        bool restart = m.Error.EndsWith("(restarting from boot)", StringComparison.Ordinal);
        if (restart)
        {
            slot.Restarts++;
        }
        _log.Error("{0}: {1}", m.Vm, m.Error);
        _scheduler.Crashed(id, restart);
        Dispatch();
    }

    private void OnSliceCompleted(SliceCompleted m)
    {
        if (!_ids.TryGetValue(m.Vm, out int id) || m.Seq != _slots[id].Seq)
        {
            return; // a stale answer (the VM was restarted)
        }
        VmSlot slot = _slots[id];
        slot.Stats = m.Stats;
        if (m.Reason == SliceEnd.GuestFault)
        {
            slot.Error = m.Stats.Fault;
        }
        _scheduler.Completed(id, m);
        _monitor.Tell(new SliceAccounted(m.Vm, m.Stats));
        if (_scheduler.Vms[id].Phase == VmPhase.Stopped)
        {
            slot.Actor.Tell(Stop.Instance);
        }
        Dispatch();
    }

    private void OnInterrupt(ScheduleInterrupt m)
    {
        WithVm(m.Vm, id =>
        {
            _slots[id].Actor.Tell(m);
            _scheduler.EventQueued(id, m.At);
        });
    }

    /// <summary>Interrupt-generator traffic that passed the monitor: to the VM, and a parked VM wakes for its first arrival.</summary>
    private void OnGeneratorEvents(GeneratorEvents m)
    {
        WithVm(m.Vm, id =>
        {
            _slots[id].Actor.Tell(m);
            if (m.Runs.Length > 0)
            {
                _scheduler.EventQueued(id, m.FirstAt);
            }
        });
    }

    private void StopOne(int id)
    {
        if (_scheduler.Stop(id))
        {
            _slots[id].Actor.Tell(Stop.Instance);
        }
    }

    private void WithVm(string name, Action<int> action)
    {
        if (_ids.TryGetValue(name, out int id))
        {
            action(id);
            Dispatch();
        }
        else
        {
            _log.Warning("no VM named {0}", name);
        }
    }

    private void Record(string vm, VmStats stats)
    {
        if (_ids.TryGetValue(vm, out int id))
        {
            _slots[id].Stats = stats;
        }
    }

    /// <summary>Sends what the scheduler decided: slices, realtime timers, demands to device actors; then checks for the end.</summary>
    private void Dispatch()
    {
        foreach (Grant g in _scheduler.TakeGrants())
        {
            VmSlot slot = _slots[g.Id];
            slot.Seq++;
            slot.Actor.Tell(new RunSlice(slot.Seq, g.Budget, g.Horizon, g.IdleHorizon));
        }
        foreach ((int id, long generation, double seconds) in _scheduler.TimersToArm)
        {
            _timer.Tell(new ArmWake(id, generation, TimeSpan.FromSeconds(Math.Min(seconds, 86_400))));
        }
        _scheduler.TimersToArm.Clear();
        foreach ((int id, ulong until) in _scheduler.Demands)
        {
            foreach (IActorRef device in _slots[id].Devices)
            {
                device.Tell(new DemandEvents(_slots[id].Spec.Name, until));
            }
        }
        _scheduler.Demands.Clear();
        if (_scheduler.FleetTime != _publishedFleetTime)
        {
            _publishedFleetTime = _scheduler.FleetTime;
            _monitor.Tell(new FleetTimeAdvanced(_publishedFleetTime));
        }
        if (!_completing && _scheduler.InFlight == 0 && _scheduler.AllFinished)
        {
            _completing = true;
            _log.Info("fleet done in {0:F3} s", _wall.Elapsed.TotalSeconds);
            _console.Tell(FlushConsole.Instance);
        }
    }

    private FleetStatus Status()
    {
        var vms = new VmStatus[_slots.Count];
        for (int i = 0; i < _slots.Count; i++)
        {
            FleetScheduler.Entry e = _scheduler.Vms[i];
            VmSlot slot = _slots[i];
            vms[i] = new VmStatus(slot.Spec.Name, e.Phase, e.Weight, e.CapPercent, slot.Stats, slot.Error);
        }
        return new FleetStatus(vms, _scheduler.FleetTime, _scheduler.InFlight, _scheduler.Granted, _wall.Elapsed.TotalSeconds,
            _final is not null || (_completing && _scheduler.AllFinished));
    }

    private static string EngineName(VmSpec spec) => Machine.EngineFactory.Names(spec.Machine.Engine);
}
