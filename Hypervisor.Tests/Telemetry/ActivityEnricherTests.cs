using System.Diagnostics;
using Hypervisor.Actors.Telemetry;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Hypervisor.Tests.Telemetry;

/// <summary>Log events written inside a span carry its ids, so a line of hv.log can be found on the timeline.</summary>
public sealed class ActivityEnricherTests
{
    private sealed class Collect : ILogEventSink
    {
        public readonly List<LogEvent> Events = [];

        public void Emit(LogEvent logEvent) => Events.Add(logEvent);
    }

    [Fact]
    public void An_event_logged_inside_a_span_carries_its_trace_and_span_ids_and_one_outside_carries_none()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == HvTelemetry.VmSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var sink = new Collect();
        using Logger log = new LoggerConfiguration().Enrich.With(new ActivityEnricher()).WriteTo.Sink(sink).CreateLogger();

        Activity? saved = Activity.Current;
        Activity span = HvTelemetry.Vm.StartActivity(HvTelemetry.Spans.VmPowerOff)!;
        log.Information("inside");
        span.Stop();
        Activity.Current = saved;
        log.Information("outside");

        LogEvent inside = sink.Events[0];
        Assert.Equal(span.TraceId.ToHexString(), ((ScalarValue)inside.Properties["TraceId"]).Value);
        Assert.Equal(span.SpanId.ToHexString(), ((ScalarValue)inside.Properties["SpanId"]).Value);
        Assert.False(sink.Events[1].Properties.ContainsKey("TraceId"));
        // hv.log's template puts them at the end of the line.
        var formatter = new Serilog.Formatting.Display.MessageTemplateTextFormatter("{Message:lj}{Span}{NewLine}");
        var text = new StringWriter { NewLine = "\n" };
        formatter.Format(sink.Events[0], text);
        formatter.Format(sink.Events[1], text);
        Assert.Equal($"inside [trace={span.TraceId.ToHexString()} span={span.SpanId.ToHexString()}]\noutside\n", text.ToString().ReplaceLineEndings("\n"));
    }
}
