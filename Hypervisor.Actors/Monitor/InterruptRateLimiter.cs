using Hypervisor.Actors.Vm;
using Hypervisor.Devices;

namespace Hypervisor.Actors.Monitor;

/// <summary>
/// One VM's interrupt-rate limit, as plain code the <see cref="MonitorActor"/> drives: at most
/// <c>rate</c> device interrupt events per second of virtual time reach the VM; an event above it is
/// <b>deferred</b> to the next free slot (slots are 10^7/rate ticks apart), never dropped, and counted.
/// </summary>
/// <remarks>
/// <para>Events are PLIC line rises (<see cref="ScheduleInterrupt"/> with level high; the falling edge
/// moves with its rise) and interrupt-generator events (<see cref="GeneratorEvents"/>: each event of
/// an arrival counts). A deferred stretch of a storm is itself a run of one event per slot, so a
/// backlog of millions of events stays a few numbers.</para>
/// <para>Determinism: slots are handed out in virtual-time order. With one device that is the order
/// its events come in. With several, events from different device actors arrive in whatever order
/// the host ran them, so they are held here until every device of the VM has promised
/// (<see cref="SourceHorizon"/>) past them, and released merged by (time, device): the same slots
/// whatever the host did. The monitor forwards a device's promise only after releasing what it
/// covers, and the VM never runs past the least promise, so holding events delays nothing it needs.</para>
/// </remarks>
public sealed class InterruptRateLimiter
{
    private readonly ulong _spacing;
    private readonly int _devices;
    private readonly Queue<Item>[] _queues;
    private readonly ulong[] _horizons;
    private readonly Dictionary<int, ulong> _shift = [];
    private readonly Dictionary<int, Output> _outputs = [];
    private ulong _nextAllowed;

    public InterruptRateLimiter(long ratePerSecond, int devices)
    {
        if (ratePerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ratePerSecond), ratePerSecond, "a rate limit must be positive");
        }
        _spacing = Math.Max(1, Hypervisor.Monitor.VirtualClock.TimebaseHz / (ulong)ratePerSecond);
        _devices = Math.Max(0, devices);
        _queues = new Queue<Item>[_devices];
        _horizons = new ulong[_devices];
        for (int d = 0; d < _devices; d++)
        {
            _queues[d] = new Queue<Item>();
        }
    }

    /// <summary>Ticks between two events at the limit.</summary>
    public ulong Spacing => _spacing;

    /// <summary>Events deferred so far (line rises and generator events).</summary>
    public long Deferred { get; private set; }

    /// <summary>Events held until every device has promised past them.</summary>
    public int Held => _queues.Sum(q => q.Count);

    private bool Merges(int device) => _devices > 1 && device >= 0 && device < _devices;

    /// <summary>A line edge from a device; what may go on to the VM now is appended to <paramref name="output"/>, in order.</summary>
    public void Offer(ScheduleInterrupt m, List<object> output) => Offer(new Item { Edge = m }, m.Device, output);

    /// <summary>Generator traffic from a device; what may go on to the VM now is appended to <paramref name="output"/>, in order.</summary>
    public void Offer(GeneratorEvents m, List<object> output)
    {
        var item = new Item { Traffic = m, Next = m.Runs.Length > 0 ? m.Runs[0].First : 0 };
        item.SkipEmpty();
        Offer(item, m.Device, output);
    }

    /// <summary>Device <paramref name="device"/> has published everything before <paramref name="until"/>: releases what every device now covers.</summary>
    public void Promise(int device, ulong until, List<object> output)
    {
        if (!Merges(device))
        {
            return;
        }
        _horizons[device] = Math.Max(_horizons[device], until);
        Release(_horizons.Min(), output);
    }

    private void Offer(Item item, int device, List<object> output)
    {
        if (Merges(device))
        {
            _queues[device].Enqueue(item);
            Release(_horizons.Min(), output);
            return;
        }
        while (!item.Exhausted)
        {
            Step(item, device);
        }
        Finish(item, device);
        Flush(output);
    }

    /// <summary>Hands out slots to every held event before <paramref name="horizon"/>, in (time, device) order.</summary>
    private void Release(ulong horizon, List<object> output)
    {
        while (true)
        {
            int best = -1;
            ulong bestTime = ulong.MaxValue;
            for (int d = 0; d < _devices; d++)
            {
                Queue<Item> q = _queues[d];
                while (q.Count > 0 && q.Peek().Exhausted)
                {
                    Finish(q.Dequeue(), d);
                }
                if (q.Count > 0)
                {
                    ulong t = q.Peek().NextTime;
                    if (t < horizon && t < bestTime)
                    {
                        best = d;
                        bestTime = t;
                    }
                }
            }
            if (best < 0)
            {
                break;
            }
            Step(_queues[best].Peek(), best);
        }
        Flush(output);
    }

    /// <summary>Gives the next arrival (or edge) of <paramref name="item"/> its slots.</summary>
    private void Step(Item item, int device)
    {
        if (item.Edge is ScheduleInterrupt edge)
        {
            ulong at = edge.At;
            if (edge.Level)
            {
                ulong allowed = Math.Max(at, _nextAllowed);
                _shift[edge.Source] = allowed - at;
                if (allowed > at)
                {
                    Deferred++;
                }
                _nextAllowed = allowed + _spacing;
                at = allowed;
            }
            else if (_shift.TryGetValue(edge.Source, out ulong shift))
            {
                at += shift; // the falling edge moves with its rising edge
            }
            OutputOf(device, edge).Edges.Add(at == edge.At ? edge : edge with { At = at });
            item.EdgeDone = true;
            return;
        }
        GeneratorEvents traffic = item.Traffic!;
        EventRun run = traffic.Runs[item.Run];
        long k = item.Next;
        ulong t = run.TimeOf(k);
        Output o = OutputOf(device, traffic);
        long events = run.PerArrival;
        if (_nextAllowed <= t)
        {
            o.Pass(run, k);
            _nextAllowed = t + _spacing;
            events--;
        }
        if (events > 0)
        {
            o.Defer(_nextAllowed, events, _spacing);
            _nextAllowed += (ulong)events * _spacing;
            Deferred += events;
        }
        item.Next++;
        item.SkipEmpty();
    }

    private void Finish(Item item, int device)
    {
        if (item.Traffic is { } traffic)
        {
            Output o = OutputOf(device, traffic);
            if (traffic.EndAt != ulong.MaxValue)
            {
                o.EndAt = traffic.EndAt;
            }
        }
    }

    private Output OutputOf(int device, object message)
    {
        int key = device >= 0 ? device : -1 - (message is GeneratorEvents g ? g.Source : ((ScheduleInterrupt)message).Source);
        if (!_outputs.TryGetValue(key, out Output? o))
        {
            o = new Output();
            _outputs[key] = o;
        }
        o.Template ??= message as GeneratorEvents;
        return o;
    }

    private void Flush(List<object> output)
    {
        foreach (Output o in _outputs.Values)
        {
            o.Drain(output);
        }
        _outputs.Clear();
    }

    /// <summary>A held message and how far its events have been given slots.</summary>
    private sealed class Item
    {
        public ScheduleInterrupt? Edge;
        public bool EdgeDone;
        public GeneratorEvents? Traffic;
        public int Run;
        public long Next;

        public bool Exhausted => Edge is not null ? EdgeDone : Run >= Traffic!.Runs.Length;

        public ulong NextTime => Edge is not null ? Edge.At : Traffic!.Runs[Run].TimeOf(Next);

        /// <summary>Moves the cursor past finished (or empty) runs.</summary>
        public void SkipEmpty()
        {
            EventRun[] runs = Traffic!.Runs;
            while (Run < runs.Length && Next >= runs[Run].End)
            {
                if (++Run < runs.Length)
                {
                    Next = runs[Run].First;
                }
            }
        }
    }

    /// <summary>What one device sends on after a release: its edges, or its traffic re-cut into passed and deferred runs.</summary>
    private sealed class Output
    {
        public readonly List<ScheduleInterrupt> Edges = [];
        public GeneratorEvents? Template;
        public ulong EndAt = ulong.MaxValue;
        private readonly List<EventRun> _runs = [];
        private long _deferred;
        private EventRun _segment;
        private long _segmentCount;
        private ulong _chainStart, _chainStep;
        private long _chainCount;
        private ulong _last;

        /// <summary>Arrival k of <paramref name="run"/> keeps its time (its first event, when it has several).</summary>
        public void Pass(in EventRun run, long k)
        {
            FlushChain();
            EventRun one = run.PerArrival == 1 ? run : run with { PerArrival = 1 };
            if (_segmentCount > 0 && _segment with { First = 0, Count = 0 } == one with { First = 0, Count = 0 } && _segment.First + _segmentCount == k)
            {
                _segmentCount++;
            }
            else
            {
                FlushSegment();
                _segment = one.Slice(k, 1);
                _segmentCount = 1;
            }
            _last = run.TimeOf(k);
        }

        /// <summary><paramref name="events"/> events at <paramref name="start"/>, start + spacing, ...</summary>
        public void Defer(ulong start, long events, ulong spacing)
        {
            FlushSegment();
            if (_chainCount > 0 && _chainStep == spacing && start == _chainStart + (ulong)_chainCount * spacing)
            {
                _chainCount += events;
            }
            else
            {
                FlushChain();
                _chainStart = start;
                _chainStep = spacing;
                _chainCount = events;
            }
            _deferred += events;
            _last = start + (ulong)(events - 1) * spacing;
        }

        private void FlushSegment()
        {
            if (_segmentCount > 0)
            {
                _runs.Add(_segment.Slice(_segment.First, _segmentCount));
                _segmentCount = 0;
            }
        }

        private void FlushChain()
        {
            if (_chainCount > 0)
            {
                _runs.Add(EventRun.Every(_chainStart, _chainStep, _chainCount));
                _chainCount = 0;
            }
        }

        public void Drain(List<object> output)
        {
            output.AddRange(Edges);
            if (Template is not null)
            {
                FlushSegment();
                FlushChain();
                ulong end = EndAt == ulong.MaxValue ? ulong.MaxValue : Math.Max(EndAt, _runs.Count > 0 ? _last + 1 : 0);
                if (_runs.Count > 0 || end != ulong.MaxValue)
                {
                    output.Add(Template with { Runs = [.. _runs], Deferred = _deferred, EndAt = end });
                }
            }
        }
    }
}
