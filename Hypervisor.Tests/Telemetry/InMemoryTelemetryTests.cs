using System.Diagnostics;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Telemetry;
using OpenTelemetry.Metrics;

namespace Hypervisor.Tests.Telemetry;

/// <summary>The spans and metrics a small fleet produces, through OpenTelemetry's in-memory exporter.</summary>
public sealed class InMemoryTelemetryTests
{
    private static readonly (string, string)[] Vms = [("otel-hello", "hello"), ("otel-isa", "isa"), ("otel-minios", "minios"), ("otel-storm", "storm")];

    [Fact]
    public async Task Every_granted_slice_is_one_span_and_the_instruction_metrics_equal_each_vms_instret()
    {
        var spans = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        var settings = new TelemetrySettings { SliceSampling = 1.0 };
        TelemetryPipeline pipeline = TelemetryFleet.InMemory(settings, spans, metrics);
        FleetCompleted done = await TelemetryFleet.RunAsync(TelemetryFleet.Scenario(settings, 50_000, Vms), pipeline);

        HashSet<string> names = Vms.Select(v => v.Item1).ToHashSet();
        List<Activity> ours;
        lock (spans)
        {
            ours = spans.Where(a => a.GetTagItem(HvTelemetry.Attributes.VmName) is string n && names.Contains(n)).ToList();
        }
        List<Activity> slices = ours.Where(a => a.OperationName == HvTelemetry.Spans.VmSlice).ToList();
        Assert.All(done.Status.Vms, v => Assert.Equal(VmPhase.PoweredOff, v.Phase));
        Assert.Equal(done.Status.SlicesGranted, slices.Count);
        Assert.Equal(done.Status.Vms.Sum(v => v.Stats.Slices), slices.Count);

        foreach (VmStatus vm in done.Status.Vms)
        {
            List<Activity> mine = ours.Where(a => (string?)a.GetTagItem(HvTelemetry.Attributes.VmName) == vm.Name).ToList();
            List<Activity> vmSlices = mine.Where(a => a.OperationName == HvTelemetry.Spans.VmSlice).ToList();
            Assert.Equal(vm.Stats.Slices, vmSlices.Count);
            Assert.Equal((long)vm.Stats.Executed, vmSlices.Sum(a => (long)a.GetTagItem(HvTelemetry.Attributes.SliceInstructions)!));
            Assert.Equal(vm.Stats.Interrupts, vmSlices.Sum(a => (long)a.GetTagItem(HvTelemetry.Attributes.IrqCount)!));
            Assert.All(vmSlices, a =>
            {
                Assert.Equal("interp", a.GetTagItem(HvTelemetry.Attributes.Engine));
                Assert.Equal(50_000L, a.GetTagItem(HvTelemetry.Attributes.SliceBudget));
                Assert.NotNull(a.GetTagItem(HvTelemetry.Attributes.ThreadId));
            });
            Assert.Equal("power_off", vmSlices.OrderBy(a => (long)a.GetTagItem(HvTelemetry.Attributes.SliceSeq)!).Last().GetTagItem(HvTelemetry.Attributes.SliceExitReason));

            // The lifecycle: one trace per VM, every span a child of its lifetime span.
            Activity life = Assert.Single(mine, a => a.OperationName == HvTelemetry.Spans.VmLifetime);
            foreach (string name in new[] { HvTelemetry.Spans.VmCreate, HvTelemetry.Spans.VmBoot, HvTelemetry.Spans.VmPowerOff })
            {
                Activity child = Assert.Single(mine, a => a.OperationName == name);
                Assert.Equal(life.SpanId, child.ParentSpanId);
            }
            Assert.All(vmSlices, a => Assert.Equal(life.TraceId, a.TraceId));
            Assert.Equal("powered_off", life.GetTagItem("vm.end_state"));
            Assert.Equal((long)vm.Stats.Instret, life.GetTagItem("vm.instret"));

            // Metrics: instructions retired equal the VM's instret; slices by reason add up to its slices.
            Assert.Equal((long)vm.Stats.Instret, TelemetryFleet.CounterOf(metrics, HvTelemetry.Metrics.Instructions, vm.Name));
            Assert.Equal(vm.Stats.Slices, TelemetryFleet.CounterOf(metrics, HvTelemetry.Metrics.Slices, vm.Name));
            Assert.Equal(vm.Stats.Interrupts, TelemetryFleet.CounterOf(metrics, HvTelemetry.Metrics.Traps, vm.Name,
                p => TelemetryFleet.Tag(p, HvTelemetry.Attributes.TrapType) == "interrupt"));
        }
        Assert.True(TelemetryFleet.CounterOf(metrics, HvTelemetry.Metrics.Traps, "otel-minios",
            p => TelemetryFleet.Tag(p, HvTelemetry.Attributes.TrapCause) == "ecall_from_u") > 0, "minios's tasks make system calls");
        lock (metrics)
        {
            // The histogram has no VM attribute, and fleets of other tests add to it: at least every slice of ours.
            Assert.Contains(metrics, m => m.Name == HvTelemetry.Metrics.SliceDuration
                && m.MetricPoints.Sum(p => p.GetHistogramCount()) >= done.Status.SlicesGranted);
        }
        ActivitySpanId runId = ours.First(o => o.OperationName == HvTelemetry.Spans.VmLifetime).Links.Single().Context.SpanId;
        Activity run;
        lock (spans)
        {
            run = spans.Single(a => a.OperationName == HvTelemetry.Spans.FleetRun && a.SpanId == runId);
        }
        Assert.Equal(4L, Convert.ToInt64(run.GetTagItem("fleet.vms")));

        // The storm guest's own traffic (guests/storm/expected.out): the interrupt generator's accounting, exported.
        Assert.Equal(528, TelemetryFleet.CounterOf(metrics, HvTelemetry.Metrics.InterruptsRaised, "otel-storm"));
        Assert.Equal(284, TelemetryFleet.CounterOf(metrics, HvTelemetry.Metrics.InterruptsDelivered, "otel-storm"));
        Assert.Equal(244, TelemetryFleet.CounterOf(metrics, HvTelemetry.Metrics.InterruptsCoalesced, "otel-storm"));
        Assert.Equal(0, TelemetryFleet.CounterOf(metrics, HvTelemetry.Metrics.InterruptsLost, "otel-storm"));
        Assert.Equal(0, TelemetryFleet.CounterOf(metrics, HvTelemetry.Metrics.InterruptsRaised, "otel-hello"));
        Activity storm = ours.Single(a => a.OperationName == HvTelemetry.Spans.VmLifetime && (string?)a.GetTagItem(HvTelemetry.Attributes.VmName) == "otel-storm");
        Assert.Equal(528L, storm.GetTagItem("irq.raised"));
        long[] virtualCounts = (long[])storm.GetTagItem("irq.latency.virtual.counts")!;
        long[] hostCounts = (long[])storm.GetTagItem("irq.latency.host.counts")!;
        Assert.True(virtualCounts.Sum() > 0, "the storm guest's latencies are in its lifetime span");
        Assert.Equal(virtualCounts.Sum(), hostCounts.Sum());
        lock (metrics)
        {
            // The latency histogram has no VM attribute (fleets of other tests add to it): at least the storm guest's.
            Assert.Contains(metrics, m => m.Name == HvTelemetry.Metrics.InterruptLatency
                && m.MetricPoints.Where(p => TelemetryFleet.Tag(p, HvTelemetry.Attributes.Clock) == "virtual").Sum(p => p.GetHistogramCount()) >= virtualCounts.Sum());
        }
    }

    [Fact]
    public void Slice_sampling_is_deterministic_and_keeps_about_the_ratio()
    {
        var a = new VmTelemetry(null, "x", 3, "interp");
        using var fleet = new FleetTelemetry(new TelemetrySettings { SliceSampling = 0.05 }, "test", 1, 1000);
        var b = new VmTelemetry(fleet, "sampled", 3, "interp");
        var c = new VmTelemetry(fleet, "sampled-again", 3, "interp");
        int kept = Enumerable.Range(1, 100_000).Count(seq => b.Sampled(seq));
        Assert.InRange(kept, 4_500, 5_500);
        Assert.All(Enumerable.Range(1, 1000), seq => Assert.Equal(b.Sampled(seq), c.Sampled(seq)));
        Assert.All(Enumerable.Range(1, 1000), seq => Assert.True(a.Sampled(seq))); // no fleet: every slice
    }
}
