using System.Diagnostics;
using Serilog.Core;
using Serilog.Events;

namespace Hypervisor.Actors.Telemetry;

/// <summary>
/// Serilog enricher: a log event written while a span is current (a VM's slice, its power-off, its
/// fault) carries the span's ids, so its line in hv.log can be found on the timeline (the trace
/// file's events carry the same ids in their args). Adds <c>TraceId</c> and <c>SpanId</c>, and
/// <c>Span</c>: " [trace=… span=…]" for text templates (empty outside spans).
/// </summary>
/// <remarks>
/// Serilog enriches on the thread that logs. Akka's own log messages are written later by its
/// logger actor, outside any span, so they carry no ids; the VM lines that matter are logged by
/// the VM's thread inside its spans (VmTelemetry).
/// </remarks>
public sealed class ActivityEnricher : ILogEventEnricher
{
    private static readonly LogEventProperty NoSpan = new("Span", new ScalarValue(""));

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        Activity? a = Activity.Current;
        if (a is null || a.IdFormat != ActivityIdFormat.W3C)
        {
            logEvent.AddPropertyIfAbsent(NoSpan);
            return;
        }
        string trace = a.TraceId.ToHexString();
        string span = a.SpanId.ToHexString();
        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("TraceId", trace));
        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("SpanId", span));
        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("Span", $" [trace={trace} span={span}]"));
    }
}
