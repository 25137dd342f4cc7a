using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Vm;

namespace Hypervisor.Actors.Scheduling;

/// <summary>A slice to grant: the VM, its budget and its horizons (mtime ticks; ulong.MaxValue = none).</summary>
public readonly record struct Grant(int Id, ulong Budget, ulong Horizon, ulong IdleHorizon);

/// <summary>
/// The supervisor's run queue and scheduling policy, as plain code (no actors, no clocks): a
/// weighted fair credit scheduler with optional caps, parking of idle VMs, and the fleet's
/// virtual clock for conservative synchronization. See docs/scheduling.md.
/// </summary>
/// <remarks>
/// <para>Fair share: each VM carries a virtual runtime, instructions executed divided by its weight
/// (its spent credit). The VM with the least spent credit runs next, so over time each runnable VM
/// gets instructions in proportion to its weight. A VM that wakes from sleep gets back at most one
/// slice of credit ahead of the queue (it cannot hoard credit while idle). A capped VM that used its
/// cap of host CPU in the current accounting period waits, throttled, for the next one.</para>
/// <para>Fleet time: the low watermark of the virtual clocks of the virtual-mode VMs that can run
/// (ready, running, throttled or blocked). A VM idle in WFI may skip time at most to fleet time plus
/// the idle lookahead; if its next event lies further, it parks and costs nothing until fleet time
/// comes within the lookahead of it. When nothing can run, fleet time jumps to the earliest parked
/// event (discrete-event simulation). None of this changes what a VM computes — only when the host
/// runs it — which is why virtual-time runs are deterministic.</para>
/// </remarks>
public sealed class FleetScheduler
{
    private readonly List<Entry> _vms = [];
    private readonly SortedSet<(double Vr, int Id)> _ready = [];
    private readonly SortedSet<(ulong Time, int Id)> _clock = [];
    private readonly PriorityQueue<(int Id, long Generation), ulong> _parked = new();
    private readonly int _parallelism;
    private readonly ulong _slice;
    private readonly ulong _lookahead;
    private readonly ulong _window;
    private double _vclock;

    public FleetScheduler(int parallelism, ulong sliceInstructions, ulong idleLookaheadTicks, ulong sourceWindowTicks)
    {
        _parallelism = Math.Max(1, parallelism);
        _slice = sliceInstructions;
        _lookahead = idleLookaheadTicks;
        _window = Math.Max(1, sourceWindowTicks);
    }

    /// <summary>One VM as the scheduler sees it.</summary>
    public sealed class Entry
    {
        internal Entry(int id, string name, int weight, int capPercent, ulong budget, bool isVirtual, int sources)
        {
            Id = id;
            Name = name;
            Weight = weight;
            CapPercent = capPercent;
            Budget = budget;
            Virtual = isVirtual;
            Promises = new ulong[sources];
        }

        public int Id { get; }
        public string Name { get; }
        public int Weight { get; }
        public int CapPercent { get; }
        public ulong Budget { get; }
        public bool Virtual { get; }
        public VmPhase Phase { get; internal set; } = VmPhase.Ready;

        /// <summary>Spent credit: instructions executed / weight.</summary>
        public double Vruntime { get; internal set; }

        /// <summary>The VM's virtual clock (ticks) at the end of its last slice.</summary>
        public ulong LocalTime { get; internal set; }

        /// <summary>Parked: the virtual time of its next event (ulong.MaxValue: none).</summary>
        public ulong WakeAt { get; internal set; } = ulong.MaxValue;
        public double CapUsedSeconds { get; internal set; }

        /// <summary>
        /// The VM's instructions per second of host CPU time: the fastest of its last three samples
        /// (each at least 2 ms of CPU time, summed over slices), so a sample slowed by a transient
        /// (the JIT compiling its blocks) soon stops counting and a VM that is always slow (a storm)
        /// is judged by it; 0 (charged its instructions) until it has three samples.
        /// </summary>
        public double Speed
        {
            get
            {
                if (_speedSamples < SpeedHistory)
                {
                    return 0; // too early to tell a slow VM from one whose first code is still compiling
                }
                double fastest = 0;
                for (int i = 0; i < SpeedHistory; i++)
                {
                    fastest = Math.Max(fastest, _speeds[i]);
                }
                return fastest;
            }
        }

        private const int SpeedHistory = 3;
        private readonly double[] _speeds = new double[SpeedHistory];
        private int _speedSamples;

        internal double SampleInstructions { get; set; }

        internal double SampleSeconds { get; set; }

        internal void AddSpeedSample(double speed) => _speeds[_speedSamples++ % SpeedHistory] = speed;

        public bool PauseRequested { get; internal set; }

        /// <summary>Halted in WFI with nothing that could wake it (<see cref="SliceCompleted.NeverWakes"/>): device events leave it halted.</summary>
        public bool NeverWakes { get; internal set; }
        public bool StopRequested { get; internal set; }
        public long Generation { get; internal set; }

        /// <summary>What each device source has promised to have published (ticks).</summary>
        internal ulong[] Promises { get; }
        internal ulong Demanded { get; set; }

        /// <summary>The earliest time an unpublished device event can be due: the VM never runs past it.</summary>
        public ulong SourceHorizon
        {
            get
            {
                ulong h = ulong.MaxValue;
                foreach (ulong p in Promises)
                {
                    h = Math.Min(h, p);
                }
                return h;
            }
        }

        public bool HasSources => Promises.Length > 0;

        public bool Finished => Phase is VmPhase.PoweredOff or VmPhase.Faulted or VmPhase.Crashed or VmPhase.Stopped or VmPhase.HaltedIdle;

        internal bool HoldsClock => Virtual && Phase is VmPhase.Ready or VmPhase.Running or VmPhase.Throttled or VmPhase.Blocked;
    }

    public IReadOnlyList<Entry> Vms => _vms;

    /// <summary>The fleet's virtual time (ticks): never goes back.</summary>
    public ulong FleetTime { get; private set; }

    public int InFlight { get; private set; }

    public long Granted { get; private set; }

    public double CapPeriodSeconds { get; set; } = 0.1;

    /// <summary>
    /// The fleet's reference speed, instructions per second of host CPU time: a moving average of
    /// the VMs' speed samples (see <see cref="Entry.Speed"/>). <see cref="Charge"/> compares each VM's
    /// speed with it.
    /// </summary>
    public double ReferenceSpeed { get; private set; }

    /// <summary>CPU time a speed sample covers at least (slices are summed until they reach it).</summary>
    private const double SampleSeconds = 0.002;

    private long _referenceSamples;

    /// <summary>
    /// What a slice costs a VM's credit: its instructions, times how much slower than the fleet the
    /// VM runs on the host, less a dead band: <c>instructions × max(1, reference / speed − 0.5)</c>.
    /// A VM within 1.5 times the reference pays exactly its instructions (shares stay exact whatever
    /// host noise does); one whose instructions are dear on the host (an interrupt storm: traps, MMIO,
    /// device callouts) pays nearly the CPU time it takes, so it cannot take more than its share of
    /// the host from its neighbours (issue 7; docs/scheduling.md).
    /// </summary>
    private double Charge(Entry e, SliceStats slice)
    {
        double executed = slice.Executed;
        e.SampleInstructions += executed;
        e.SampleSeconds += slice.CpuSeconds > 0 ? slice.CpuSeconds : slice.HostSeconds; // CPU time: what other processes took is not the VM's
        if (e.SampleSeconds >= SampleSeconds)
        {
            double speed = e.SampleInstructions / e.SampleSeconds;
            e.AddSpeedSample(speed);
            _referenceSamples++;
            // A plain mean of the first samples, then a moving average: one early sample from a slow VM
            // (a storm that happened to run first) does not hold the reference down for long.
            double weight = Math.Max(0.05, 1.0 / _referenceSamples);
            ReferenceSpeed = (1 - weight) * ReferenceSpeed + weight * speed;
            e.SampleInstructions = 0;
            e.SampleSeconds = 0;
        }
        double vmSpeed = e.Speed;
        return vmSpeed > 0 && ReferenceSpeed > 0 ? executed * Math.Max(1, ReferenceSpeed / vmSpeed - 0.5) : executed;
    }

    /// <summary>Realtime VMs to wake by the host clock: (id, generation, seconds). The caller arms timers and clears it.</summary>
    public List<(int Id, long Generation, double Seconds)> TimersToArm { get; } = [];

    /// <summary>Device sources to ask for more events: (id, until ticks). The caller sends them and clears it.</summary>
    public List<(int Id, ulong Until)> Demands { get; } = [];

    public bool AllFinished => _vms.All(v => v.Finished);

    public int Add(string name, int weight, int capPercent, ulong sliceQuota, bool isVirtual, int sources = 0)
    {
        ulong budget = sliceQuota == 0 ? _slice : Math.Min(_slice, sliceQuota);
        var e = new Entry(_vms.Count, name, Math.Max(1, weight), capPercent, budget, isVirtual, sources);
        _vms.Add(e);
        if (sources > 0)
        {
            Demand(e, _window);
        }
        Enter(e, isVirtual && sources > 0 ? VmPhase.Blocked : VmPhase.Ready); // a source must publish first
        return e.Id;
    }

    /// <summary>Grants slices while host slots are free and VMs are ready, least spent credit first.</summary>
    public List<Grant> TakeGrants()
    {
        var grants = new List<Grant>();
        while (InFlight < _parallelism && _ready.Count > 0)
        {
            (double vr, int id) = _ready.Min;
            Entry e = _vms[id];
            _vclock = Math.Max(_vclock, vr);
            Move(e, VmPhase.Running);
            InFlight++;
            Granted++;
            ulong idle = e.Virtual ? Saturate(FleetTime, _lookahead) : ulong.MaxValue;
            grants.Add(new Grant(id, e.Budget, e.Virtual ? e.SourceHorizon : ulong.MaxValue, idle));
        }
        return grants;
    }

    /// <summary>Accounts a finished slice and decides where the VM goes next.</summary>
    public void Completed(int id, SliceCompleted m)
    {
        Entry e = _vms[id];
        if (e.Phase != VmPhase.Running)
        {
            return;
        }
        InFlight--;
        e.Vruntime += Charge(e, m.Slice) / e.Weight;
        e.CapUsedSeconds += m.Slice.HostSeconds;
        SetLocalTime(e, m.Stats.VirtualTime);
        e.NeverWakes = m.Reason == SliceEnd.Idle && m.NeverWakes;
        if (e.StopRequested)
        {
            Move(e, VmPhase.Stopped);
        }
        else
        {
            switch (m.Reason)
            {
                case SliceEnd.PowerOff:
                    Move(e, VmPhase.PoweredOff);
                    break;
                case SliceEnd.GuestFault:
                    Move(e, VmPhase.Faulted);
                    break;
                case SliceEnd.Idle when m.NeverWakes:
                    Move(e, VmPhase.HaltedIdle);
                    break;
                case SliceEnd.Idle:
                    Park(e, m.NextEventAt, m.WakeAfterSeconds);
                    break;
                default:
                    Runnable(e);
                    break;
            }
            if (e.PauseRequested && !e.Finished)
            {
                Move(e, VmPhase.Paused);
            }
        }
        if (e.HasSources && !e.Finished)
        {
            ulong horizon = e.SourceHorizon;
            if (horizon != ulong.MaxValue && horizon - Math.Min(horizon, e.LocalTime) < _window / 2)
            {
                Demand(e, Saturate(e.LocalTime, _window));
            }
        }
        AdvanceClock();
    }

    /// <summary>A device source of VM <paramref name="id"/> promised every event before <paramref name="until"/>.</summary>
    public void Promised(int id, int source, ulong until)
    {
        Entry e = _vms[id];
        if (source < 0 || source >= e.Promises.Length)
        {
            return;
        }
        e.Promises[source] = Math.Max(e.Promises[source], until);
        ulong horizon = e.SourceHorizon;
        if (e.Phase == VmPhase.Blocked && e.LocalTime < horizon)
        {
            Runnable(e);
        }
        else if (e.Phase == VmPhase.Parked && e.WakeAt == ulong.MaxValue)
        {
            // Idle with nothing queued: its sources must look further ahead, or it can never wake.
            if (horizon == ulong.MaxValue)
            {
                Move(e, VmPhase.HaltedIdle);
            }
            else
            {
                Demand(e, Saturate(horizon, _window));
            }
        }
        AdvanceClock();
    }

    /// <summary>An interrupt event at <paramref name="at"/> was queued on VM <paramref name="id"/>: a parked VM must wake for it.</summary>
    public void EventQueued(int id, ulong at)
    {
        Entry e = _vms[id];
        if (e.Phase is VmPhase.Parked or VmPhase.HaltedIdle && !e.NeverWakes) // a VM that can never wake stays halted
        {
            if (!e.Virtual)
            {
                Wake(e);
            }
            else if (at < e.WakeAt || e.Phase == VmPhase.HaltedIdle)
            {
                ParkVirtual(e, Math.Min(at, e.WakeAt));
            }
        }
        AdvanceClock();
    }

    /// <summary>Input or a timer: a parked or halted VM gets a chance to run (it parks again if nothing woke it).</summary>
    public void Wake(int id, long? generation = null)
    {
        Entry e = _vms[id];
        if (generation is long g && g != e.Generation)
        {
            return;
        }
        if (e.Phase is VmPhase.Parked or VmPhase.HaltedIdle)
        {
            Wake(e);
        }
        AdvanceClock();
    }

    public void Pause(int id)
    {
        Entry e = _vms[id];
        if (e.Finished)
        {
            return;
        }
        if (e.Phase == VmPhase.Running)
        {
            e.PauseRequested = true;
        }
        else
        {
            Move(e, VmPhase.Paused);
        }
        AdvanceClock();
    }

    public void Resume(int id)
    {
        Entry e = _vms[id];
        e.PauseRequested = false;
        if (e.Phase == VmPhase.Paused)
        {
            Wake(e);
        }
        AdvanceClock();
    }

    /// <summary>The VM was reset to its entry point (its clock starts again at <paramref name="localTime"/>).</summary>
    public void WasReset(int id, ulong localTime)
    {
        Entry e = _vms[id];
        if (e.Phase is VmPhase.Running)
        {
            return; // accounted when its slice completes
        }
        SetLocalTime(e, localTime);
        if (e.Phase is not VmPhase.Paused and not VmPhase.Crashed)
        {
            Wake(e);
        }
        AdvanceClock();
    }

    /// <summary>Stops the VM; a running one is stopped when its slice completes. True if it stopped now.</summary>
    public bool Stop(int id)
    {
        Entry e = _vms[id];
        if (e.Finished)
        {
            return false;
        }
        if (e.Phase == VmPhase.Running)
        {
            e.StopRequested = true;
            return false;
        }
        Move(e, VmPhase.Stopped);
        AdvanceClock();
        return true;
    }

    /// <summary>The VM's actor died of a host exception; <paramref name="restart"/>: it boots again.</summary>
    public void Crashed(int id, bool restart)
    {
        Entry e = _vms[id];
        if (e.Phase == VmPhase.Running)
        {
            InFlight--;
        }
        e.Generation++;
        if (restart && !e.StopRequested)
        {
            SetLocalTime(e, 0);
            Move(e, VmPhase.Ready);
            Requeue(e);
        }
        else
        {
            Move(e, VmPhase.Crashed);
        }
        AdvanceClock();
    }

    /// <summary>A new cap accounting period: usage starts from zero, throttled VMs run again.</summary>
    public void NewCapPeriod()
    {
        foreach (Entry e in _vms)
        {
            e.CapUsedSeconds = 0;
            if (e.Phase == VmPhase.Throttled)
            {
                Runnable(e);
            }
        }
        AdvanceClock();
    }

    private void Runnable(Entry e)
    {
        if (e.CapPercent > 0 && e.CapUsedSeconds >= e.CapPercent / 100.0 * CapPeriodSeconds)
        {
            Move(e, VmPhase.Throttled);
        }
        else if (e.Virtual && e.LocalTime >= e.SourceHorizon)
        {
            Move(e, VmPhase.Blocked);
        }
        else
        {
            Move(e, VmPhase.Ready);
        }
    }

    private void Park(Entry e, ulong nextEventAt, double wakeAfterSeconds)
    {
        if (!e.Virtual)
        {
            if (double.IsPositiveInfinity(wakeAfterSeconds))
            {
                Move(e, VmPhase.HaltedIdle);
                return;
            }
            Move(e, VmPhase.Parked);
            e.Generation++;
            TimersToArm.Add((e.Id, e.Generation, wakeAfterSeconds));
            return;
        }
        if (nextEventAt == ulong.MaxValue)
        {
            if (e.HasSources && e.SourceHorizon != ulong.MaxValue)
            {
                Move(e, VmPhase.Parked);
                e.WakeAt = ulong.MaxValue;
                Demand(e, Saturate(Math.Max(e.SourceHorizon, e.LocalTime), _window));
            }
            else
            {
                Move(e, VmPhase.HaltedIdle);
            }
            return;
        }
        ParkVirtual(e, nextEventAt);
    }

    private void ParkVirtual(Entry e, ulong wakeAt)
    {
        Move(e, VmPhase.Parked);
        e.Generation++;
        e.WakeAt = wakeAt;
        _parked.Enqueue((e.Id, e.Generation), wakeAt);
    }

    private void Wake(Entry e)
    {
        e.Vruntime = Math.Max(e.Vruntime, _vclock - (double)_slice);
        Runnable(e);
    }

    private void Demand(Entry e, ulong until)
    {
        if (until > e.Demanded)
        {
            e.Demanded = until;
            Demands.Add((e.Id, until));
        }
    }

    /// <summary>Moves fleet time to the low watermark of the VMs that can run and wakes parked VMs within the lookahead of it.</summary>
    private void AdvanceClock()
    {
        while (true)
        {
            if (_clock.Count > 0)
            {
                FleetTime = Math.Max(FleetTime, _clock.Min.Time);
            }
            else if (PeekParked() is ulong first)
            {
                FleetTime = Math.Max(FleetTime, first - Math.Min(first, _lookahead));
            }
            bool woke = false;
            ulong limit = Saturate(FleetTime, _lookahead);
            while (PeekParked() is ulong due && due <= limit)
            {
                (int id, _) = _parked.Dequeue();
                Entry e = _vms[id];
                e.WakeAt = ulong.MaxValue;
                Wake(e);
                woke = true;
            }
            if (!woke)
            {
                return;
            }
        }
    }

    /// <summary>The earliest valid parked wake time, dropping stale queue entries.</summary>
    private ulong? PeekParked()
    {
        while (_parked.TryPeek(out (int Id, long Generation) item, out ulong due))
        {
            Entry e = _vms[item.Id];
            if (e.Phase == VmPhase.Parked && e.Generation == item.Generation && e.WakeAt == due)
            {
                return due;
            }
            _parked.Dequeue();
        }
        return null;
    }

    private void Move(Entry e, VmPhase phase)
    {
        if (e.Phase == VmPhase.Ready)
        {
            _ready.Remove((e.Vruntime, e.Id));
        }
        if (e.HoldsClock)
        {
            _clock.Remove((e.LocalTime, e.Id));
        }
        Enter(e, phase);
    }

    private void Enter(Entry e, VmPhase phase)
    {
        e.Phase = phase;
        if (phase != VmPhase.Parked)
        {
            e.WakeAt = ulong.MaxValue;
        }
        if (phase == VmPhase.Ready)
        {
            _ready.Add((e.Vruntime, e.Id));
        }
        if (e.HoldsClock)
        {
            _clock.Add((e.LocalTime, e.Id));
        }
    }

    private void Requeue(Entry e)
    {
        if (e.Phase == VmPhase.Ready)
        {
            _ready.Remove((e.Vruntime, e.Id));
            e.Vruntime = Math.Max(e.Vruntime, _vclock - (double)_slice);
            _ready.Add((e.Vruntime, e.Id));
        }
    }

    private void SetLocalTime(Entry e, ulong time)
    {
        if (e.HoldsClock)
        {
            _clock.Remove((e.LocalTime, e.Id));
            e.LocalTime = time;
            _clock.Add((e.LocalTime, e.Id));
        }
        else
        {
            e.LocalTime = time;
        }
    }

    private static ulong Saturate(ulong a, ulong b) => a > ulong.MaxValue - b ? ulong.MaxValue : a + b;
}
