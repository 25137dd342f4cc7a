using System.Diagnostics;
using Hypervisor.Actors.Vm;
using Hypervisor.Cpu;
using Hypervisor.Engines;
using Hypervisor.Engines.Hybrid;
using Hypervisor.Engines.Translation;
using Hypervisor.Machine;
using Hypervisor.Monitor;
using Serilog;

namespace Hypervisor.Actors.Telemetry;

/// <summary>
/// The spans and metric updates of one VM, driven by its actor on the VM's own thread: the
/// lifetime span <c>vm</c> with its lifecycle children (<c>vm.create</c>, <c>vm.boot</c>,
/// <c>vm.power_off</c>, <c>vm.fault</c>, <c>vm.stop</c>), a sampled <c>vm.slice</c> span per
/// slice, and the per-slice copy of the VM's counters into <see cref="VmCounters"/>.
/// </summary>
/// <remarks>
/// Cost: nothing per instruction; per slice a sampling decision (a hash), the copy of ~40
/// counters and one histogram record; a span (a few allocations) only for sampled slices.
/// Activity.Current is restored after every start and stop: actor threads run other actors next.
/// </remarks>
public sealed class VmTelemetry
{
    private readonly FleetTelemetry? _fleet;
    private readonly VmCounters _counters;
    private readonly string _name;
    private readonly int _index;
    private readonly string _engine;
    private readonly KeyValuePair<string, object?> _engineTag;
    private readonly ulong _sampleThreshold;
    private readonly bool _sampleAll;
    private VirtualMachine? _vm;
    private TranslationCacheStatistics? _cache;
    private HybridStatistics? _tiers;
    private IInterruptAccounting? _accounting;
    // Bucket counts already exported, plus (last slot) the histogram's count then.
    private readonly long[] _previousVirtual = new long[LatencyHistogram.Bounds.Length + 2];
    private readonly long[] _previousHost = new long[LatencyHistogram.Bounds.Length + 2];
    private Activity? _lifetime;
    private Activity? _boot;
    private Activity? _ending;
    private string _endState = "running";
    private int _generation;

    public VmTelemetry(FleetTelemetry? fleet, string name, int index, string engine)
    {
        _fleet = fleet;
        _name = name;
        _index = index;
        _engine = engine;
        _engineTag = new(HvTelemetry.Attributes.Engine, engine);
        _counters = fleet?.Register(name, index, engine) ?? new VmCounters(name, index, engine);
        double ratio = fleet?.SliceSampling ?? 1.0;
        _sampleAll = ratio >= 1;
        _sampleThreshold = ratio <= 0 ? 0 : (ulong)(ratio * 18446744073709551615.0);
    }

    public VmCounters Counters => _counters;

    /// <summary>The process's Serilog logger as it is now (a host sets it up before or after building the fleet).</summary>
    private ILogger _log => Log.ForContext("Vm", _name);

    /// <summary>
    /// The VM's interrupt accounting (every VM's interrupt generator has one, attached when the VM
    /// is built); from then on the interrupt metrics and latency histograms follow it.
    /// </summary>
    public void Attach(IInterruptAccounting accounting)
    {
        _accounting = accounting;
        _counters.HasInterruptAccounting = true;
        Array.Clear(_previousVirtual);
        Array.Clear(_previousHost);
    }

    /// <summary>The VM was built (in the actor's PreStart), starting at <paramref name="startTimestamp"/>: opens its lifetime span, records vm.create and opens vm.boot.</summary>
    public void Created(VirtualMachine vm, long startTimestamp)
    {
        _vm = vm;
        _cache = vm.Engine switch
        {
            TranslatorEngine t => t.Cache.Statistics,
            HybridEngine h => h.Translator.Cache.Statistics,
            _ => null,
        };
        _tiers = (vm.Engine as HybridEngine)?.Tiers;
        Attach(vm.InterruptAccounting); // the interrupt generator's accounting (issue 7)
        if (_generation++ > 0)
        {
            _counters.Rebase(); // a supervision restart: a fresh machine counts from 0
        }
        DateTimeOffset start = DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(startTimestamp);
        Activity? saved = Activity.Current;
        _endState = "running";
        OpenLifetime(start);
        if (_lifetime is not null)
        {
            Activity? create = HvTelemetry.Vm.StartActivity(HvTelemetry.Spans.VmCreate, ActivityKind.Internal, _lifetime.Context, startTime: start);
            if (create is not null)
            {
                VmTags(create);
                create.SetTag("vm.memory", (long)vm.Config.MemorySize);
                create.Stop();
            }
        }
        OpenBoot(reset: false);
        Activity.Current = saved;
    }

    /// <summary>The guest was reset (power-on again): a new vm.boot.</summary>
    public void WasReset()
    {
        Activity? saved = Activity.Current;
        _boot?.Stop();
        if (_lifetime is null)
        {
            _endState = "running";
            OpenLifetime(DateTimeOffset.UtcNow);
        }
        OpenBoot(reset: true);
        Activity.Current = saved;
    }

    /// <summary>True when slice <paramref name="seq"/> of this VM is traced (deterministic: a hash of the VM and the sequence number).</summary>
    public bool Sampled(long seq)
    {
        if (_sampleAll)
        {
            return true;
        }
        ulong z = ((ulong)(uint)_index << 40) ^ (ulong)seq;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return z < _sampleThreshold;
    }

    /// <summary>A slice starts: its span when sampled (Activity.Current is the span until <see cref="EndSlice"/>), else null.</summary>
    public Activity? BeginSlice(long seq)
    {
        if (!Sampled(seq) || !HvTelemetry.Scheduling.HasListeners())
        {
            return null;
        }
        return HvTelemetry.Scheduling.StartActivity(HvTelemetry.Spans.VmSlice, ActivityKind.Internal, _lifetime?.Context ?? default);
    }

    /// <summary>A slice that already ran (a runner without actors, <c>hv run guest.elf</c>): its span from <paramref name="start"/> to now, and the counters.</summary>
    public void RecordSlice(long seq, ulong budget, DateTimeOffset start, SliceStats slice, SliceEnd reason)
    {
        Activity? span = Sampled(seq) && HvTelemetry.Scheduling.HasListeners()
            ? HvTelemetry.Scheduling.StartActivity(HvTelemetry.Spans.VmSlice, ActivityKind.Internal, _lifetime?.Context ?? default, startTime: start)
            : null;
        EndSlice(span, seq, budget, slice, reason);
    }

    /// <summary>A slice ended: closes its span, copies the VM's counters, records the slice duration, and opens vm.power_off or vm.fault when the guest ended.</summary>
    public void EndSlice(Activity? span, long seq, ulong budget, SliceStats slice, SliceEnd reason)
    {
        if (span is not null)
        {
            VmTags(span);
            span.SetTag(HvTelemetry.Attributes.SliceSeq, seq);
            span.SetTag(HvTelemetry.Attributes.SliceBudget, (long)Math.Min(budget, long.MaxValue));
            span.SetTag(HvTelemetry.Attributes.SliceInstructions, (long)slice.Executed);
            span.SetTag(HvTelemetry.Attributes.SliceExitReason, VmCounters.SliceEndNames[(int)reason]);
            span.SetTag(HvTelemetry.Attributes.IrqCount, slice.InterruptsTaken);
            span.SetTag(HvTelemetry.Attributes.ThreadId, Environment.CurrentManagedThreadId);
            span.SetTag(HvTelemetry.Attributes.ThreadName, Thread.CurrentThread.Name ?? $"thread {Environment.CurrentManagedThreadId}");
            if (_vm is not null)
            {
                span.SetTag(HvTelemetry.Attributes.VirtualTime, (long)(_vm.State.Cycle / Math.Max(1u, _vm.Clock.InstructionsPerTick)));
            }
            span.Stop();
        }
        Activity? saved = span?.Parent;
        Activity.Current = saved;
        Count(slice, reason);
        _fleet?.SliceDuration.Record(slice.HostSeconds, _engineTag);
        if (_boot is not null)
        {
            _boot.SetTag("boot.first_slice_instructions", (long)slice.Executed);
            _boot.Stop();
            _boot = null;
            Activity.Current = saved;
        }
        if (reason == SliceEnd.PowerOff)
        {
            int code = _vm?.ExitCode ?? 0;
            _endState = "powered_off";
            Ending(HvTelemetry.Spans.VmPowerOff, a => a.SetTag("vm.exit_code", code));
            _log.Information("{Vm}: powered off with code {Code} after {Instret} instructions", _name, code, _vm?.State.Instret ?? 0);
            CloseEnding();
            CloseLifetime();
            Activity.Current = saved;
        }
        else if (reason == SliceEnd.GuestFault)
        {
            _endState = "faulted";
            GuestFaultReport? fault = _vm?.Fault;
            Ending(HvTelemetry.Spans.VmFault, a =>
            {
                a.SetTag("fault.kind", "guest");
                if (fault is not null)
                {
                    a.SetTag("fault.cause", GuestFaultReport.CauseName(fault.Cause));
                    a.SetTag("fault.pc", $"0x{fault.Pc:x8}");
                    a.SetTag("fault.tval", $"0x{fault.Tval:x8}");
                }
                a.SetStatus(ActivityStatusCode.Error, fault?.Message ?? "guest fault");
            });
            _log.Warning("{Vm}: fatal guest fault: {Fault}", _name, fault?.ToString() ?? "unknown");
            CloseEnding();
            CloseLifetime();
            Activity.Current = saved;
        }
    }

    /// <summary>The engine threw a host exception: a vm.fault span (fault.kind = host_exception) and an error on the lifetime span.</summary>
    public void Crashed(Activity? span, Exception e)
    {
        if (span is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, e.Message);
            span.Stop();
        }
        Activity.Current = null;
        _endState = "crashed";
        Ending(HvTelemetry.Spans.VmFault, a =>
        {
            a.SetTag("fault.kind", "host_exception");
            a.AddException(e);
            a.SetStatus(ActivityStatusCode.Error, e.Message);
        });
        _log.Error(e, "{Vm}: host exception in the engine", _name);
        CloseEnding();
        _lifetime?.SetStatus(ActivityStatusCode.Error, e.Message);
        CloseLifetime();
        Activity.Current = null;
    }

    /// <summary>The actor was asked to stop: records vm.stop and ends the lifetime span (unless the guest already ended it).</summary>
    public void Stopping()
    {
        Activity? saved = Activity.Current;
        if (_lifetime is not null)
        {
            _endState = "stopped";
            Ending(HvTelemetry.Spans.VmStop, _ => { });
            _log.Information("{Vm}: stopped after {Instret} instructions", _name, _vm?.State.Instret ?? 0);
            CloseEnding();
            CloseLifetime();
        }
        Activity.Current = saved;
    }

    /// <summary>The actor stopped (PostStop, or a restart): closes whatever is still open.</summary>
    public void Ended()
    {
        Activity? saved = Activity.Current;
        CloseEnding();
        CloseLifetime();
        Activity.Current = saved;
    }

    /// <summary>Ends the lifetime span with the VM's totals (the guest powered off or faulted, or the VM was stopped).</summary>
    private void CloseLifetime()
    {
        _boot?.Stop();
        _boot = null;
        if (_lifetime is not null)
        {
            _lifetime.SetTag("vm.end_state", _endState);
            _lifetime.SetTag("vm.instret", _counters.Instructions.Value);
            _lifetime.SetTag("vm.slices", _counters.Slices);
            _lifetime.SetTag("vm.cpu_time", _counters.CpuNanoseconds / 1e9);
            if (_vm?.ExitCode is int code)
            {
                _lifetime.SetTag("vm.exit_code", code);
            }
            long irqs = 0;
            foreach (Monotonic m in _counters.Interrupts)
            {
                irqs += m.Value;
            }
            _lifetime.SetTag("irq.taken", irqs);
            if (_accounting is { } a)
            {
                _lifetime.SetTag("irq.raised", a.Raised);
                _lifetime.SetTag("irq.delivered", a.Delivered);
                _lifetime.SetTag("irq.coalesced", a.Coalesced);
                _lifetime.SetTag("irq.deferred", a.Deferred);
                _lifetime.SetTag("irq.lost", a.Lost);
                _lifetime.SetTag("irq.latency.bounds_ns", LatencyHistogram.Bounds);
                _lifetime.SetTag("irq.latency.virtual.counts", Counts(a.VirtualLatency));
                _lifetime.SetTag("irq.latency.host.counts", Counts(a.HostLatency));
                _lifetime.SetTag("irq.latency.virtual.max_ns", a.VirtualLatency.Max);
                _lifetime.SetTag("irq.latency.host.max_ns", a.HostLatency.Max);
            }
            _lifetime.Stop();
            _lifetime = null;
        }
    }

    private static long[] Counts(LatencyHistogram h)
    {
        long[] counts = new long[h.BucketCount];
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = h.CountAt(i);
        }
        return counts;
    }

    private void OpenLifetime(DateTimeOffset start)
    {
        ActivityLink[]? links = _fleet is { RunContext: { TraceId: var runTrace } run } && runTrace != default ? [new ActivityLink(run)] : null;
        _lifetime = HvTelemetry.Vm.StartActivity(HvTelemetry.Spans.VmLifetime, ActivityKind.Internal, parentContext: default, links: links, startTime: start);
        if (_lifetime is not null && _vm is { } vm)
        {
            VmTags(_lifetime);
            _lifetime.SetTag("vm.memory", (long)vm.Config.MemorySize);
            _lifetime.SetTag("vm.image", vm.Image.Path);
            _lifetime.SetTag("vm.time_mode", vm.Clock.Mode == TimeMode.Virtual ? "virtual" : "realtime");
            _lifetime.SetTag("vm.generation", _generation);
        }
    }

    private void OpenBoot(bool reset)
    {
        if (_lifetime is null)
        {
            return;
        }
        _boot = HvTelemetry.Vm.StartActivity(HvTelemetry.Spans.VmBoot, ActivityKind.Internal, _lifetime.Context);
        if (_boot is not null)
        {
            VmTags(_boot);
            _boot.SetTag("boot.reset", reset);
            if (_vm is not null)
            {
                _boot.SetTag("boot.entry", $"0x{_vm.Image.Entry:x8}");
            }
        }
    }

    private void Ending(string name, Action<Activity> tag)
    {
        CloseEnding();
        if (_lifetime is null)
        {
            return;
        }
        _ending = HvTelemetry.Vm.StartActivity(name, ActivityKind.Internal, _lifetime.Context);
        if (_ending is not null)
        {
            VmTags(_ending);
            tag(_ending);
        }
    }

    private void CloseEnding()
    {
        _ending?.Stop();
        _ending = null;
    }

    private void VmTags(Activity a)
    {
        a.SetTag(HvTelemetry.Attributes.VmName, _name);
        a.SetTag(HvTelemetry.Attributes.VmIndex, _index);
        a.SetTag(HvTelemetry.Attributes.Engine, _engine);
    }

    /// <summary>Copies the VM's cumulative counters (a few dozen numbers; no allocation).</summary>
    private void Count(SliceStats slice, SliceEnd reason)
    {
        VmCounters c = _counters;
        c.SlicesByEnd[(int)reason]++;
        c.CpuNanoseconds += (long)(slice.HostSeconds * 1e9);
        VirtualMachine? vm = _vm;
        if (vm is null)
        {
            return;
        }
        c.Instructions.Set((long)vm.State.Instret);
        long[] exceptions = vm.Hart.ExceptionsRaised;
        long[] interrupts = vm.Hart.InterruptsTaken;
        for (int i = 0; i < VmCounters.Causes; i++)
        {
            c.Exceptions[i].Set(exceptions[i]);
            c.Interrupts[i].Set(interrupts[i]);
        }
        c.Callouts.Set(vm.Engine.Statistics.Callouts);
        if (_cache is { } cache)
        {
            c.TbLookups.Set(cache.Lookups);
            c.TbHits.Set(cache.Hits);
            c.TbMisses.Set(cache.Misses);
            c.TbInvalidations.Set(cache.Invalidations);
            c.TbFlushes.Set(cache.Flushes);
            c.TbTranslations.Set(cache.Translations);
        }
        if (_tiers is { } tiers)
        {
            long[] traps = tiers.TrapsByOpcode;
            for (int i = 0; i < traps.Length && i < c.MonitorTraps.Length; i++)
            {
                c.MonitorTraps[i].Set(traps[i]);
            }
        }
        c.ResidentBytes = vm.Ram.ResidentBytes;
        if (_accounting is { } a)
        {
            c.Raised.Set(a.Raised);
            c.Delivered.Set(a.Delivered);
            c.Coalesced.Set(a.Coalesced);
            c.Deferred.Set(a.Deferred);
            c.Lost.Set(a.Lost);
            _fleet?.RecordLatency(a.VirtualLatency, _previousVirtual, "virtual", _engine);
            _fleet?.RecordLatency(a.HostLatency, _previousHost, "host", _engine);
        }
    }
}
