using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hypervisor.Actors.Config;
using Hypervisor.Monitor;

namespace Hypervisor.Actors.Telemetry;

/// <summary>
/// The telemetry of one fleet: its <c>fleet.run</c> span, its meter (named
/// <see cref="HvTelemetry.MeterName"/>) and every VM's <see cref="VmCounters"/>. Counters are
/// observable: the collector reads the VMs' cumulative figures when it collects, so a slice pays
/// only for copying a few numbers; the two histograms (slice duration, interrupt latency) are
/// recorded once per slice by the VM's own thread.
/// </summary>
public sealed class FleetTelemetry : IDisposable
{
    /// <summary>Bucket bounds of <see cref="HvTelemetry.Metrics.SliceDuration"/>, seconds: 10 us .. 10 s.</summary>
    public static readonly double[] SliceDurationBounds =
        [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1, 2, 5, 10];

    private readonly Meter _meter;
    private readonly List<VmCounters> _vms = [];
    private readonly object _lock = new();
    private Activity? _run;
    private VmCounters[] _snapshot = [];

    public FleetTelemetry(TelemetrySettings settings, string scenario, int hostParallelism, ulong sliceInstructions)
    {
        Settings = settings;
        SliceSampling = settings.EffectiveSliceSampling;
        _meter = new Meter(HvTelemetry.MeterName, HvTelemetry.Version);
        SliceDuration = _meter.CreateHistogram(HvTelemetry.Metrics.SliceDuration, "s", "Host time of one scheduling slice", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = SliceDurationBounds });
        InterruptLatency = _meter.CreateHistogram(HvTelemetry.Metrics.InterruptLatency, "s",
            "Interrupt latency from raise to the guest handler's first instruction (clock = virtual or host)", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyHistogram.Bounds.Select(b => b / 1e9).ToArray() });
        CreateObservables();

        Activity? saved = Activity.Current;
        _run = HvTelemetry.Fleet.StartActivity(HvTelemetry.Spans.FleetRun, ActivityKind.Internal, parentContext: default);
        Activity.Current = saved;
        if (_run is not null)
        {
            _run.SetTag("fleet.scenario", scenario);
            _run.SetTag("fleet.host_parallelism", hostParallelism);
            _run.SetTag("fleet.slice", (long)sliceInstructions);
            _run.SetTag("fleet.slice_sampling", SliceSampling);
        }
    }

    /// <summary>A fleet's telemetry with the defaults (tests, benchmarks).</summary>
    public static FleetTelemetry For(Scenario scenario) =>
        new(scenario.Settings.Telemetry, scenario.File, scenario.Settings.HostParallelism, scenario.Settings.SliceInstructions);

    public TelemetrySettings Settings { get; }

    /// <summary>Fraction of slices traced.</summary>
    public double SliceSampling { get; }

    public Histogram<double> SliceDuration { get; }

    public Histogram<double> InterruptLatency { get; }

    /// <summary>The fleet.run span's context (VM spans link to it); default when nothing listens.</summary>
    public ActivityContext RunContext => _run?.Context ?? default;

    public IReadOnlyList<VmCounters> Vms
    {
        get
        {
            lock (_lock)
            {
                return _snapshot;
            }
        }
    }

    /// <summary>The counters of a VM of the scenario; the same object across restarts of its actor.</summary>
    public VmCounters Register(string name, int index, string engine)
    {
        lock (_lock)
        {
            VmCounters? existing = _vms.Find(v => v.Name == name);
            if (existing is not null)
            {
                return existing;
            }
            var counters = new VmCounters(name, index, engine);
            _vms.Add(counters);
            _snapshot = [.. _vms];
            return counters;
        }
    }

    /// <summary>The fleet is done: ends its span with the totals.</summary>
    public void Completed(long slicesGranted, bool interrupted, string? stopReason)
    {
        Activity? run = Interlocked.Exchange(ref _run, null);
        if (run is null)
        {
            return;
        }
        long instructions = 0;
        foreach (VmCounters v in Vms)
        {
            instructions += v.Instructions.Value;
        }
        run.SetTag("fleet.vms", Vms.Count);
        run.SetTag("fleet.slices", slicesGranted);
        run.SetTag("fleet.instructions", instructions);
        if (interrupted)
        {
            run.SetTag("fleet.stop_reason", stopReason ?? "stopped");
        }
        Activity? saved = Activity.Current;
        run.Stop();
        Activity.Current = saved;
    }

    public void Dispose()
    {
        Completed(0, interrupted: true, "disposed");
        _meter.Dispose();
    }

    private void CreateObservables()
    {
        const string instr = "{instruction}";
        Counter(HvTelemetry.Metrics.Instructions, instr, "Guest instructions retired (instret)", v => v.Instructions.Value);
        Counter(HvTelemetry.Metrics.Callouts, "{callout}", "Calls from translated code into the monitor's emulation routines", v => v.Callouts.Value);
        Counter(HvTelemetry.Metrics.TbLookups, "{lookup}", "Translation-cache lookups", v => v.TbLookups.Value);
        Counter(HvTelemetry.Metrics.TbHits, "{lookup}", "Translation-cache hits", v => v.TbHits.Value);
        Counter(HvTelemetry.Metrics.TbMisses, "{lookup}", "Translation-cache misses", v => v.TbMisses.Value);
        Counter(HvTelemetry.Metrics.TbInvalidations, "{block}", "Translated blocks invalidated by stores to their code", v => v.TbInvalidations.Value);
        Counter(HvTelemetry.Metrics.TbFlushes, "{flush}", "Whole translation-cache flushes (FENCE.I, full cache, reset)", v => v.TbFlushes.Value);
        Counter(HvTelemetry.Metrics.TbTranslations, "{block}", "Guest blocks translated", v => v.TbTranslations.Value);
        InterruptCounter(HvTelemetry.Metrics.InterruptsRaised, "Interrupt events raised by devices", v => v.Raised.Value);
        InterruptCounter(HvTelemetry.Metrics.InterruptsDelivered, "Interrupt events taken by the guest's handler", v => v.Delivered.Value);
        InterruptCounter(HvTelemetry.Metrics.InterruptsCoalesced, "Interrupt events merged into one already pending", v => v.Coalesced.Value);
        InterruptCounter(HvTelemetry.Metrics.InterruptsDeferred, "Interrupt events moved later by the VM's interrupt-rate limit", v => v.Deferred.Value);
        InterruptCounter(HvTelemetry.Metrics.InterruptsLost, "Interrupt events lost (must be 0)", v => v.Lost.Value);
        _meter.CreateObservableCounter(HvTelemetry.Metrics.CpuTime, () => Measure(v => v.CpuNanoseconds / 1e9), "s", "Host time spent running the VM's slices");
        _meter.CreateObservableGauge(HvTelemetry.Metrics.ResidentMemory, () => Measure(v => v.ResidentBytes), "By", "Guest RAM actually allocated");
        _meter.CreateObservableCounter(HvTelemetry.Metrics.Slices, SlicesByEnd, "{slice}", "Scheduling slices run, by exit reason");
        _meter.CreateObservableCounter(HvTelemetry.Metrics.Traps, TrapsByCause, "{trap}", "Guest traps (exceptions and interrupts taken) by cause");
        _meter.CreateObservableCounter(HvTelemetry.Metrics.MonitorTraps, MonitorTrapsByKind, "{trap}", "Traps from direct execution to the monitor (hybrid engine), by kind");
    }

    private void Counter(string name, string unit, string description, Func<VmCounters, long> read) =>
        _meter.CreateObservableCounter(name, () => Measure(read), unit, description);

    private void InterruptCounter(string name, string description, Func<VmCounters, long> read) =>
        _meter.CreateObservableCounter(name, () => Measure(read, onlyWithAccounting: true), "{interrupt}", description);

    /// <summary>One measurement per VM (vm.name, engine), or per engine when per-VM metrics are off.</summary>
    private IEnumerable<Measurement<T>> Measure<T>(Func<VmCounters, T> read, bool onlyWithAccounting = false)
        where T : struct, System.Numerics.INumber<T>
    {
        IReadOnlyList<VmCounters> vms = Vms;
        if (Settings.PerVmMetrics)
        {
            var list = new List<Measurement<T>>(vms.Count);
            foreach (VmCounters v in vms)
            {
                if (!onlyWithAccounting || v.HasInterruptAccounting)
                {
                    list.Add(new Measurement<T>(read(v), VmTags(v)));
                }
            }
            return list;
        }
        var byEngine = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (VmCounters v in vms)
        {
            if (!onlyWithAccounting || v.HasInterruptAccounting)
            {
                byEngine[v.Engine] = byEngine.GetValueOrDefault(v.Engine) + read(v);
            }
        }
        return byEngine.Select(kv => new Measurement<T>(kv.Value, new KeyValuePair<string, object?>(HvTelemetry.Attributes.Engine, kv.Key)));
    }

    private IEnumerable<Measurement<long>> SlicesByEnd() =>
        Breakdown(v => v.SlicesByEnd, HvTelemetry.Attributes.SliceExitReason, VmCounters.SliceEndNames);

    private IEnumerable<Measurement<long>> TrapsByCause()
    {
        IEnumerable<Measurement<long>> exceptions = Breakdown(v => Values(v.Exceptions), HvTelemetry.Attributes.TrapCause, VmCounters.ExceptionNames,
            new KeyValuePair<string, object?>(HvTelemetry.Attributes.TrapType, "exception"));
        IEnumerable<Measurement<long>> interrupts = Breakdown(v => Values(v.Interrupts), HvTelemetry.Attributes.TrapCause, VmCounters.InterruptNames,
            new KeyValuePair<string, object?>(HvTelemetry.Attributes.TrapType, "interrupt"));
        return exceptions.Concat(interrupts);
    }

    private IEnumerable<Measurement<long>> MonitorTrapsByKind() =>
        Breakdown(v => Values(v.MonitorTraps), HvTelemetry.Attributes.TrapKind, VmCounters.TrapKindByOpcode);

    private static long[] Values(Monotonic[] counts)
    {
        long[] values = new long[counts.Length];
        for (int i = 0; i < counts.Length; i++)
        {
            values[i] = counts[i].Value;
        }
        return values;
    }

    /// <summary>Nonzero counts by a label (counts with the same label, e.g. every CSR opcode as "csr", are added).</summary>
    private IEnumerable<Measurement<long>> Breakdown(Func<VmCounters, long[]> read, string key, string[] labels, KeyValuePair<string, object?>? extra = null)
    {
        var sums = new Dictionary<(string Group, string Engine, string Label), long>();
        var vmsOf = new Dictionary<string, VmCounters>(StringComparer.Ordinal);
        foreach (VmCounters v in Vms)
        {
            long[] values = read(v);
            string group = Settings.PerVmMetrics ? v.Name : "";
            vmsOf[group] = v;
            for (int i = 0; i < values.Length; i++)
            {
                if (values[i] != 0)
                {
                    var k = (group, v.Engine, labels[i]);
                    sums[k] = sums.GetValueOrDefault(k) + values[i];
                }
            }
        }
        var result = new List<Measurement<long>>(sums.Count);
        foreach (((string group, string engine, string label), long value) in sums)
        {
            var tags = new List<KeyValuePair<string, object?>>(4);
            if (Settings.PerVmMetrics)
            {
                tags.AddRange(VmTags(vmsOf[group]));
            }
            else
            {
                tags.Add(new(HvTelemetry.Attributes.Engine, engine));
            }
            tags.Add(new(key, label));
            if (extra is { } e)
            {
                tags.Add(e);
            }
            result.Add(new Measurement<long>(value, tags));
        }
        return result;
    }

    private static KeyValuePair<string, object?>[] VmTags(VmCounters v) =>
    [
        new(HvTelemetry.Attributes.VmName, v.Name),
        new(HvTelemetry.Attributes.Engine, v.Engine),
    ];

    /// <summary>Records a VM's new interrupt latencies: bucket by bucket, each at its bucket's upper bound (exact counts per bucket).</summary>
    internal void RecordLatency(LatencyHistogram histogram, long[] previous, string clock, string engine)
    {
        if (histogram.Count == previous[^1])
        {
            return; // nothing new since the last slice (the last slot keeps the count seen)
        }
        previous[^1] = histogram.Count;
        for (int i = 0; i < histogram.BucketCount; i++)
        {
            long now = histogram.CountAt(i);
            long added = now - previous[i];
            previous[i] = now;
            if (added <= 0 || !InterruptLatency.Enabled)
            {
                continue; // nothing new, or nobody listens to the histogram
            }
            double seconds = (i < LatencyHistogram.Bounds.Length ? LatencyHistogram.Bounds[i] : histogram.Max) / 1e9;
            var tags = new TagList { { HvTelemetry.Attributes.Clock, clock }, { HvTelemetry.Attributes.Engine, engine } };
            for (long k = 0; k < added; k++)
            {
                InterruptLatency.Record(seconds, tags);
            }
        }
    }
}
