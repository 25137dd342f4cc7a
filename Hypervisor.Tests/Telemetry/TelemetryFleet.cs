using System.Diagnostics;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Telemetry;
using Hypervisor.Tests.Actors;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Hypervisor.Tests.Telemetry;

/// <summary>Runs a small fleet with a telemetry pipeline, the way <c>hv run</c> does: metrics collected at the end, spans flushed after the fleet stops.</summary>
public static class TelemetryFleet
{
    /// <summary>A scenario of <paramref name="vms"/> (name, guest) with unique names, small slices so there are many, and the given telemetry.</summary>
    public static Scenario Scenario(TelemetrySettings telemetry, ulong slice, params (string Name, string Guest)[] vms) =>
        Hypervisor.Actors.Config.Scenario.Of(FleetRun.Settings(parallelism: 2, slice: slice) with { Telemetry = telemetry },
            vms.Select(v => FleetRun.Vm(v.Name, FleetRun.Guest(v.Guest))).ToArray());

    public static async Task<FleetCompleted> RunAsync(Scenario scenario, TelemetryPipeline pipeline, Func<Task>? whileDone = null)
    {
        FleetCompleted done;
        await using (FleetHost host = FleetHost.Start(scenario, new SupervisorOptions { OutputDir = FleetRun.TempDir() }))
        {
            done = await host.Completion.WaitAsync(FleetRun.Generous);
            pipeline.CollectMetrics();
            if (whileDone is not null)
            {
                await whileDone();
            }
        }
        pipeline.Dispose();
        return done;
    }

    public static TelemetryPipeline InMemory(TelemetrySettings settings, List<Activity> spans, List<MetricSnapshot> metrics) =>
        TelemetryPipeline.Start(settings, b => b.AddInMemoryExporter(spans), b => b.AddInMemoryExporter(metrics));

    /// <summary>
    /// The value of a counter for one VM at the first collection that saw the VM (the one at the
    /// fleet's end). Other tests' fleets have meters of the same name, so several snapshots may
    /// share a metric name: the VM's own points decide.
    /// </summary>
    public static long CounterOf(List<MetricSnapshot> metrics, string name, string vm, Func<MetricPoint, bool>? where = null)
    {
        List<MetricSnapshot> named;
        lock (metrics)
        {
            named = metrics.Where(s => s.Name == name).ToList();
        }
        Assert.True(named.Count > 0, $"no metric {name}");
        foreach (MetricSnapshot m in named)
        {
            bool seen = false;
            long sum = 0;
            foreach (MetricPoint p in m.MetricPoints)
            {
                if (Tag(p, HvTelemetry.Attributes.VmName) == vm)
                {
                    seen = true;
                    if (where?.Invoke(p) ?? true)
                    {
                        sum += p.GetSumLong();
                    }
                }
            }
            if (seen)
            {
                return sum;
            }
        }
        return 0;
    }

    public static string? Tag(MetricPoint p, string key)
    {
        foreach (KeyValuePair<string, object?> t in p.Tags)
        {
            if (t.Key == key)
            {
                return t.Value as string;
            }
        }
        return null;
    }
}
