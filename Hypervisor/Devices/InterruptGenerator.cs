using System.Diagnostics;
using Hypervisor.Cpu;
using Hypervisor.Memory;
using Hypervisor.Monitor;

namespace Hypervisor.Devices;

/// <summary>
/// The interrupt generator (this project's own device, for interrupt storms): 32 event sources on
/// PLIC sources 32..63, each with an event counter the guest reads and acknowledges and a
/// level-triggered line. The host feeds events (device actors' traffic patterns); a source the host
/// does not drive runs a local burst pattern when the guest enables it. docs/interrupt-generator.md.
/// </summary>
/// <remarks>
/// Register map (base 0x1010_0000, size 0x1000, 32-bit aligned accesses only; other sizes fault;
/// offsets not listed read 0 and ignore writes; counters are the low 32 bits of 64-bit counts):
///
///   Device-wide
///   +0x000  ID           RO  0x4E454749 ("IGEN")
///   +0x004  VERSION      RO  1
///   +0x008  CONFIG       RO  bits 7:0 sources (32), bits 15:8 first PLIC source (32)
///   +0x010  PENDING_MAP  RO  bit i: source i has unacknowledged events
///   +0x014  ENABLE_MAP   RW  bit i: source i enabled (a write sets every CTRL.ENABLE at once)
///   +0x018  HOST_MAP     RO  bit i: the host drives source i (traffic from the hypervisor's configuration)
///   +0x01C  DONE_MAP     RO  bit i: no event will come any more on source i (its traffic has ended and all of it was raised)
///   +0x020  LINE_MAP     RO  bit i: the interrupt line of source i is high
///
///   Source i (0..31, PLIC source 32 + i) at +0x100 + 0x40*i
///   +0x00  CTRL            RW  bit 0 ENABLE: the line is high while ENABLE and PENDING > 0. Setting
///                              ENABLE on a source the host does not drive, whose local pattern is not
///                              running, starts the local pattern (below) from the present time.
///   +0x04  PENDING         RO  events raised and not yet acknowledged
///   +0x08  ACK             WO  write n: acknowledges min(n, PENDING) events (reads 0)
///   +0x0C  STATUS          RO  bit 0 LINE, bit 1 HOST, bit 2 LOCAL (local pattern running),
///                              bit 3 DONE, bit 4 AWAITING (an event waits for its interrupt's claim)
///   +0x10  RAISED          RO  events raised
///   +0x14  ACKED           RO  events acknowledged
///   +0x18  DELIVERED       RO  events delivered by a PLIC claim (the event that raised the line)
///   +0x1C  COALESCED       RO  events merged into one already waiting (or acknowledged without a claim of their own)
///   +0x20  CLAIMS          RO  PLIC claims that returned this source
///   +0x24  DEFERRED        RO  events the hypervisor's interrupt-rate limit moved later
///   +0x28  QUEUED          RO  events handed to the device whose time has not come
///   +0x2C  LOST            RO  events that vanished (always 0: the device checks its own books)
///   +0x30  PATTERN_BURST   RW  local pattern: events per burst        (reset 8)
///   +0x34  PATTERN_PERIOD  RW  local pattern: ticks between bursts    (reset 2000 = 200 us)
///   +0x38  PATTERN_COUNT   RW  local pattern: bursts                  (reset 16)
///   +0x3C  PATTERN_START   RW  local pattern: ticks from enable to the first burst (reset 1000 = 100 us)
///
/// Events take effect at exact instruction boundaries (the VM's event scheduler), so every engine
/// sees the same counts at the same instruction. Only the event that raises a line needs its own
/// scheduler entry; events arriving while one waits for its claim are counted when the guest next
/// looks (register access, claim), from the run's closed form — a storm costs the host per
/// interrupt delivered, not per event.
/// </remarks>
public sealed class InterruptGenerator : IMmioDevice
{
    public const uint DefaultBase = 0x1010_0000;
    public const int FirstSource = 32;
    public const int SourceCount = 32;
    public const uint Id = 0x4E45_4749; // "IGEN" in little-endian bytes
    public const uint Version = 1;

    public const uint RegId = 0x000, RegVersion = 0x004, RegConfig = 0x008, RegPendingMap = 0x010, RegEnableMap = 0x014,
        RegHostMap = 0x018, RegDoneMap = 0x01C, RegLineMap = 0x020;

    public const uint SourceBase = 0x100, SourceStride = 0x40;

    public const uint RegCtrl = 0x00, RegPending = 0x04, RegAck = 0x08, RegStatus = 0x0C, RegRaised = 0x10, RegAcked = 0x14,
        RegDelivered = 0x18, RegCoalesced = 0x1C, RegClaims = 0x20, RegDeferred = 0x24, RegQueued = 0x28, RegLost = 0x2C,
        RegPatternBurst = 0x30, RegPatternPeriod = 0x34, RegPatternCount = 0x38, RegPatternStart = 0x3C;

    public const uint StatusLine = 1, StatusHost = 2, StatusLocal = 4, StatusDone = 8, StatusAwaiting = 16;

    /// <summary>The local pattern a source runs when the guest enables it and the host does not drive it.</summary>
    public const uint DefaultBurst = 8, DefaultPeriodTicks = 2000, DefaultBursts = 16, DefaultStartTicks = 1000;

    private readonly IInterruptSink _plic;
    private readonly HartState _state;
    private readonly VirtualClock _clock;
    private readonly EventScheduler _events;
    private readonly Source[] _sources = new Source[SourceCount];

    /// <summary>Sources that were ever host-driven, fed or enabled; the others read as reset (no events, DONE).</summary>
    private uint _touched;

    public InterruptGenerator(IInterruptSink plic, HartState state, VirtualClock clock, EventScheduler events)
    {
        _plic = plic;
        _state = state;
        _clock = clock;
        _events = events;
        Accounting = new InterruptAccounting(FirstSource, SourceCount);
        for (int i = 0; i < SourceCount; i++)
        {
            _sources[i] = new Source(this, i, Accounting.SourceAccounts[i]);
        }
    }

    public string Name => "igen";

    public uint Size => 0x1000;

    /// <summary>Counts and latency histograms of every source.</summary>
    public InterruptAccounting Accounting { get; }

    private ulong Now => _state.Cycle;

    private ulong Ipt => _clock.InstructionsPerTick;

    // ---- host side ------------------------------------------------------------------------------

    /// <summary>Marks <paramref name="plicSource"/> as driven by the host (before the guest runs): the guest sees it in HOST_MAP and no local pattern runs on it.</summary>
    public void AttachHost(int plicSource)
    {
        Source s = SourceOf(plicSource);
        Touch(plicSource - FirstSource);
        s.Host = true;
        s.StreamEnd = ulong.MaxValue; // open until the host closes it
    }

    /// <summary>
    /// Hands the device a run of arrivals in mtime ticks of virtual time (the VM's cycle = tick ×
    /// instructions-per-tick). Arrivals already in the past are raised at the present instruction.
    /// A source's runs must come in time order.
    /// </summary>
    public void Publish(int plicSource, in EventRun run)
    {
        Source s = SourceOf(plicSource);
        if (!s.Host)
        {
            AttachHost(plicSource);
        }
        s.Add(run, Ipt);
    }

    /// <summary>Raises <paramref name="events"/> events on <paramref name="plicSource"/> at cycle <paramref name="cycle"/> exactly (or now, if it has passed).</summary>
    public void RaiseAt(int plicSource, ulong cycle, int events = 1)
    {
        Source s = SourceOf(plicSource);
        if (!s.Host)
        {
            AttachHost(plicSource);
        }
        s.Add(EventRun.Single(cycle, events), 1);
    }

    /// <summary>The host's traffic on <paramref name="plicSource"/> ends at tick <paramref name="tick"/>: no event at or after it (DONE follows).</summary>
    public void CloseAt(int plicSource, ulong tick)
    {
        Source s = SourceOf(plicSource);
        UInt128 cycle = (UInt128)tick * Ipt;
        s.StreamEnd = cycle >= ulong.MaxValue ? ulong.MaxValue : (ulong)cycle;
    }

    /// <summary>Counts events of <paramref name="plicSource"/> the monitor's rate limit deferred.</summary>
    public void AddDeferred(int plicSource, long events) => SourceOf(plicSource).Account.Deferred += events;

    /// <summary>The PLIC claimed <paramref name="plicSource"/> (wired to <see cref="Plic.Claimed"/>): the waiting event is delivered.</summary>
    public void OnClaimed(int context, int plicSource)
    {
        if (plicSource < FirstSource || plicSource >= FirstSource + SourceCount)
        {
            return;
        }
        _sources[plicSource - FirstSource].Claimed();
    }

    /// <summary>
    /// The hart entered an external-interrupt handler for which the PLIC would hand out
    /// <paramref name="plicSource"/>: the latency of that source's waiting event ends here.
    /// </summary>
    public void HandlerEntered(int plicSource)
    {
        if (plicSource < FirstSource || plicSource >= FirstSource + SourceCount)
        {
            return;
        }
        _sources[plicSource - FirstSource].SampleLatency();
    }

    /// <summary>Guest reset: guest-visible state back to reset values; the host's queued traffic stays (the world outside goes on).</summary>
    public void Reset()
    {
        foreach (Source s in _sources)
        {
            s.Reset();
        }
    }

    // ---- guest side -----------------------------------------------------------------------------

    public bool Read(uint offset, int size, out uint value)
    {
        value = 0;
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }
        if (offset >= SourceBase && offset < SourceBase + SourceStride * SourceCount)
        {
            value = _sources[(offset - SourceBase) / SourceStride].Read((offset - SourceBase) % SourceStride);
            return true;
        }
        value = offset switch
        {
            RegId => Id,
            RegVersion => Version,
            RegConfig => SourceCount | (FirstSource << 8),
            RegPendingMap or RegEnableMap or RegHostMap or RegDoneMap or RegLineMap => Map(offset),
            _ => 0,
        };
        return true;
    }

    public bool Write(uint offset, int size, uint value)
    {
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }
        if (offset >= SourceBase && offset < SourceBase + SourceStride * SourceCount)
        {
            _sources[(offset - SourceBase) / SourceStride].Write((offset - SourceBase) % SourceStride, value);
        }
        else if (offset == RegEnableMap)
        {
            for (int i = 0; i < SourceCount; i++)
            {
                _sources[i].SetEnabled(((value >> i) & 1) != 0);
            }
        }
        return true;
    }

    /// <summary>A device-wide bitmap: a source never touched is reset (only its DONE bit is set).</summary>
    private uint Map(uint register)
    {
        uint m = register == RegDoneMap ? ~_touched : 0;
        for (uint t = _touched; t != 0; t &= t - 1)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(t);
            Source s = _sources[i];
            s.CatchUp();
            bool bit = register switch
            {
                RegPendingMap => s.Account.Pending > 0,
                RegEnableMap => s.Enabled,
                RegHostMap => s.Host,
                RegDoneMap => s.Done,
                _ => s.Line,
            };
            if (bit)
            {
                m |= 1u << i;
            }
        }
        return m;
    }

    private void Touch(int index) => _touched |= 1u << index;

    private Source SourceOf(int plicSource)
    {
        if (plicSource < FirstSource || plicSource >= FirstSource + SourceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(plicSource), plicSource, $"the interrupt generator's sources are {FirstSource}..{FirstSource + SourceCount - 1}");
        }
        return _sources[plicSource - FirstSource];
    }

    /// <summary>A queued run: its arrivals in units of <see cref="Scale"/> cycles, how far it has been raised, and the cycle it was queued at.</summary>
    private struct QueuedRun
    {
        public EventRun Run;
        public ulong Scale;
        public long Next;
        public ulong NotBefore;

        public readonly ulong CycleOf(long k)
        {
            UInt128 c = (UInt128)Run.TimeOf(k) * Scale;
            return Math.Max(c >= ulong.MaxValue ? ulong.MaxValue : (ulong)c, NotBefore);
        }
    }

    /// <summary>One source: its queue of arrivals, the guest-visible state, and the event that raises its line.</summary>
    private sealed class Source
    {
        private readonly InterruptGenerator _device;
        private readonly int _index;
        private readonly List<QueuedRun> _runs = [];
        private readonly Action _fire;
        private int _head;
        private long _eventId;
        private ulong _scheduledAt = ulong.MaxValue;
        private bool _awaiting;
        private bool _headSampled;
        private ulong _headCycle;
        private long _headHost;
        private bool _local;
        private uint _burst = DefaultBurst, _period = DefaultPeriodTicks, _count = DefaultBursts, _start = DefaultStartTicks;

        public Source(InterruptGenerator device, int index, SourceAccount account)
        {
            _device = device;
            _index = index;
            Account = account;
            _fire = Fire;
        }

        public SourceAccount Account { get; }

        public bool Host;
        public bool Enabled;
        public bool Line;

        /// <summary>Cycle from which no more events come (ulong.MaxValue: the host's stream is open; 0: nothing was ever configured).</summary>
        public ulong StreamEnd;

        public bool Done => Account.Queued == 0 && _device.Now >= StreamEnd;

        private int PlicSource => FirstSource + _index;

        public void Add(in EventRun run, ulong scale)
        {
            if (run.Problem() is string problem)
            {
                throw new ArgumentException($"source {PlicSource}: {problem}", nameof(run));
            }
            if (run.Count == 0)
            {
                return;
            }
            _device.Touch(_index);
            var q = new QueuedRun { Run = run, Scale = scale, Next = run.First, NotBefore = _device.Now };
            if (_head < _runs.Count)
            {
                QueuedRun last = _runs[^1];
                if (q.CycleOf(run.First) < last.CycleOf(last.Run.End - 1))
                {
                    throw new ArgumentException($"source {PlicSource}: a run must not start before the end of the one queued before it", nameof(run));
                }
            }
            _runs.Add(q);
            Account.Published += run.Events;
            Account.Queued += run.Events;
            Reschedule();
        }

        /// <summary>Counts every arrival due by the present cycle (the guest is about to look, or the line's event fired).</summary>
        public void CatchUp()
        {
            ulong now = _device.Now;
            while (_head < _runs.Count)
            {
                QueuedRun q = _runs[_head];
                ulong first = q.CycleOf(q.Next);
                if (first > now)
                {
                    return;
                }
                long last = Math.Min(q.Run.LastIndexAtOrBefore(now / q.Scale), q.Run.End - 1);
                long events = (last - q.Next + 1) * q.Run.PerArrival;
                Arrive(first, events);
                q.Next = last + 1;
                if (q.Next < q.Run.End)
                {
                    _runs[_head] = q;
                    return;
                }
                _head++;
                if (_head == _runs.Count)
                {
                    _runs.Clear();
                    _head = 0;
                }
                else if (_head >= 64 && _head * 2 >= _runs.Count)
                {
                    _runs.RemoveRange(0, _head);
                    _head = 0;
                }
            }
            _local = false;
        }

        private void Arrive(ulong firstCycle, long events)
        {
            SourceAccount a = Account;
            a.Raised += events;
            a.Queued -= events;
            a.Pending += events;
            if (!_awaiting)
            {
                // The first of them raises the line: it waits for its claim, the rest merge into it.
                _awaiting = true;
                a.Awaiting = 1;
                _headCycle = firstCycle;
                _headHost = Stopwatch.GetTimestamp();
                _headSampled = false;
                a.Coalesced += events - 1;
            }
            else
            {
                a.Coalesced += events;
            }
            UpdateLine();
        }

        private void Fire()
        {
            _eventId = 0;
            _scheduledAt = ulong.MaxValue;
            CatchUp();
            Reschedule();
        }

        /// <summary>Keeps one scheduler event at the next arrival while no event waits for its claim (then the next arrival raises the line or starts a new wait).</summary>
        private void Reschedule()
        {
            ulong want = !_awaiting && _head < _runs.Count
                ? Math.Max(_runs[_head].CycleOf(_runs[_head].Next), _device.Now)
                : ulong.MaxValue;
            if (want == _scheduledAt)
            {
                return;
            }
            if (_eventId != 0)
            {
                _device._events.Cancel(_eventId);
                _eventId = 0;
            }
            _scheduledAt = want;
            if (want != ulong.MaxValue)
            {
                _eventId = _device._events.Schedule(want, _fire);
            }
        }

        private void UpdateLine()
        {
            bool level = Enabled && Account.Pending > 0;
            if (level != Line)
            {
                Line = level;
                _device._plic.SetLine(PlicSource, level);
            }
        }

        public void Claimed()
        {
            CatchUp();
            Account.Claims++;
            if (_awaiting)
            {
                SampleLatency(); // delivered inside a handler already running (a claim loop): its latency ends here
                _awaiting = false;
                Account.Awaiting = 0;
                Account.Delivered++;
                Reschedule();
            }
        }

        public void SampleLatency()
        {
            if (!_awaiting || _headSampled)
            {
                return;
            }
            _headSampled = true;
            ulong cycles = _device.Now - Math.Min(_device.Now, _headCycle);
            _device.Accounting.VirtualLatency.Record((long)((UInt128)cycles * 100 / _device.Ipt));
            long hostTicks = Stopwatch.GetTimestamp() - _headHost;
            _device.Accounting.HostLatency.Record((long)(hostTicks * (1e9 / Stopwatch.Frequency)));
        }

        private void Acknowledge(uint n)
        {
            CatchUp();
            long m = Math.Min(n, Account.Pending);
            Account.Pending -= m;
            Account.Acknowledged += m;
            if (Account.Pending == 0 && _awaiting)
            {
                // Handled without a claim of its own (acknowledged in the same handler run as an earlier one).
                _awaiting = false;
                Account.Awaiting = 0;
                Account.Coalesced++;
            }
            UpdateLine();
            Reschedule();
        }

        public void SetEnabled(bool on)
        {
            if (on)
            {
                _device.Touch(_index);
            }
            CatchUp();
            bool rising = on && !Enabled;
            Enabled = on;
            if (rising && !Host && !_local)
            {
                StartLocalPattern();
            }
            UpdateLine();
        }

        private void StartLocalPattern()
        {
            if (_burst == 0 || _count == 0)
            {
                StreamEnd = _device.Now;
                return;
            }
            ulong tick = _device.Now / _device.Ipt + _start;
            var run = EventRun.Every(tick, _period, _count, (int)Math.Min(_burst, int.MaxValue));
            _local = true;
            Add(run, _device.Ipt);
            UInt128 end = (UInt128)run.LastTime * _device.Ipt;
            StreamEnd = end >= ulong.MaxValue ? ulong.MaxValue : (ulong)end;
        }

        public uint Read(uint reg)
        {
            CatchUp();
            SourceAccount a = Account;
            return reg switch
            {
                RegCtrl => Enabled ? 1u : 0u,
                RegPending => (uint)Math.Min(a.Pending, uint.MaxValue),
                RegStatus => (Line ? StatusLine : 0) | (Host ? StatusHost : 0) | (_local ? StatusLocal : 0) | (Done ? StatusDone : 0) | (_awaiting ? StatusAwaiting : 0),
                RegRaised => (uint)a.Raised,
                RegAcked => (uint)a.Acknowledged,
                RegDelivered => (uint)a.Delivered,
                RegCoalesced => (uint)a.Coalesced,
                RegClaims => (uint)a.Claims,
                RegDeferred => (uint)a.Deferred,
                RegQueued => (uint)Math.Min(a.Queued, uint.MaxValue),
                RegLost => (uint)a.Lost,
                RegPatternBurst => _burst,
                RegPatternPeriod => _period,
                RegPatternCount => _count,
                RegPatternStart => _start,
                _ => 0,
            };
        }

        public void Write(uint reg, uint value)
        {
            switch (reg)
            {
                case RegCtrl: SetEnabled((value & 1) != 0); break;
                case RegAck: Acknowledge(value); break;
                case RegPatternBurst: _burst = value; break;
                case RegPatternPeriod: _period = value; break;
                case RegPatternCount: _count = value; break;
                case RegPatternStart: _start = value; break;
            }
        }

        public void Reset()
        {
            if (_eventId != 0)
            {
                _device._events.Cancel(_eventId);
                _eventId = 0;
            }
            _scheduledAt = ulong.MaxValue;
            SourceAccount a = Account;
            if (!Host)
            {
                a.Withdrawn += a.Queued;
                a.Queued = 0;
                _runs.Clear();
                _head = 0;
                StreamEnd = 0;
            }
            _local = false;
            if (_awaiting)
            {
                a.DiscardedHeads++;
                _awaiting = false;
                a.Awaiting = 0;
            }
            a.Discarded += a.Pending;
            a.Pending = 0;
            Enabled = false;
            UpdateLine();
            (_burst, _period, _count, _start) = (DefaultBurst, DefaultPeriodTicks, DefaultBursts, DefaultStartTicks);
            Reschedule();
        }
    }
}
