using System.Diagnostics;

namespace Hypervisor.Actors.Telemetry;

/// <summary>
/// The names of everything the hypervisor emits through System.Diagnostics and OpenTelemetry
/// (docs/telemetry.md lists them with their attributes and units). Sources are process-wide, as
/// .NET expects; with no listener <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null and costs a field read.
/// </summary>
public static class HvTelemetry
{
    /// <summary>Prefix of every source and meter: an OpenTelemetry SDK adds them all with <c>AddSource(HvTelemetry.Wildcard)</c>.</summary>
    public const string Wildcard = "Hypervisor.*";

    /// <summary>Source of the <c>fleet.run</c> span (one per fleet).</summary>
    public const string FleetSourceName = "Hypervisor.Fleet";

    /// <summary>Source of the VM lifecycle spans: <c>vm</c>, <c>vm.create</c>, <c>vm.boot</c>, <c>vm.power_off</c>, <c>vm.fault</c>, <c>vm.stop</c>.</summary>
    public const string VmSourceName = "Hypervisor.Vm";

    /// <summary>Source of the <c>vm.slice</c> spans (sampled).</summary>
    public const string SchedulingSourceName = "Hypervisor.Scheduling";

    /// <summary>The meter of every metric (one instance per fleet, all of this name).</summary>
    public const string MeterName = "Hypervisor.Fleet";

    public static readonly string Version = typeof(HvTelemetry).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static readonly ActivitySource Fleet = new(FleetSourceName, Version);

    public static readonly ActivitySource Vm = new(VmSourceName, Version);

    public static readonly ActivitySource Scheduling = new(SchedulingSourceName, Version);

    /// <summary>Span names.</summary>
    public static class Spans
    {
        public const string FleetRun = "fleet.run";
        public const string VmLifetime = "vm";
        public const string VmCreate = "vm.create";
        public const string VmBoot = "vm.boot";
        public const string VmSlice = "vm.slice";
        public const string VmPowerOff = "vm.power_off";
        public const string VmFault = "vm.fault";
        public const string VmStop = "vm.stop";
    }

    /// <summary>Attribute names.</summary>
    public static class Attributes
    {
        public const string VmName = "vm.name";
        public const string VmIndex = "vm.index";
        public const string Engine = "engine";
        public const string SliceSeq = "slice.seq";
        public const string SliceBudget = "slice.budget";
        public const string SliceInstructions = "slice.instructions";
        public const string SliceExitReason = "slice.exit_reason";
        public const string IrqCount = "irq.count";
        public const string VirtualTime = "vm.virtual_time";
        public const string ThreadId = "thread.id";
        public const string ThreadName = "thread.name";
        public const string TrapCause = "trap.cause";
        public const string TrapType = "trap.type";
        public const string TrapKind = "trap.kind";
        public const string Clock = "clock";
    }

    /// <summary>Metric names (OpenTelemetry style; Prometheus shows dots as underscores, counters with _total and seconds with _seconds).</summary>
    public static class Metrics
    {
        public const string Instructions = "hv.vm.instructions";
        public const string Slices = "hv.vm.slices";
        public const string CpuTime = "hv.vm.cpu_time";
        public const string Traps = "hv.vm.traps";
        public const string MonitorTraps = "hv.vm.monitor_traps";
        public const string Callouts = "hv.vm.callouts";
        public const string ResidentMemory = "hv.vm.memory.resident";
        public const string TbLookups = "hv.tb.lookups";
        public const string TbHits = "hv.tb.hits";
        public const string TbMisses = "hv.tb.misses";
        public const string TbInvalidations = "hv.tb.invalidations";
        public const string TbFlushes = "hv.tb.flushes";
        public const string TbTranslations = "hv.tb.translations";
        public const string InterruptsRaised = "hv.interrupt.raised";
        public const string InterruptsDelivered = "hv.interrupt.delivered";
        public const string InterruptsCoalesced = "hv.interrupt.coalesced";
        public const string InterruptsDeferred = "hv.interrupt.deferred";
        public const string InterruptsLost = "hv.interrupt.lost";
        public const string InterruptLatency = "hv.interrupt.latency";
        public const string SliceDuration = "hv.slice.duration";
    }
}
