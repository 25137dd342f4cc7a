using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Hypervisor.Actors.Telemetry;

/// <summary>
/// The OpenTelemetry SDK set up from <see cref="TelemetrySettings"/>: a tracer provider for the
/// <c>Hypervisor.*</c> sources and a meter provider for the <c>Hypervisor.Fleet</c> meter, with
/// the exporters asked for (console, OTLP, Prometheus on 127.0.0.1) and the Chrome trace file.
/// With nothing asked for, nothing is built and instrumentation costs nothing.
/// </summary>
/// <remarks>
/// Order at the end of a run: <see cref="CollectMetrics"/> while the fleet still exists (its
/// counters are observable), then stop the fleet (its VM spans end), then <see cref="Dispose"/>
/// (exports the last spans and closes the trace file).
/// </remarks>
public sealed class TelemetryPipeline : IDisposable
{
    private readonly TracerProvider? _tracer;
    private readonly MeterProvider? _meter;

    private TelemetryPipeline(TracerProvider? tracer, MeterProvider? meter, ChromeTraceWriter? traceFile, Uri? prometheus)
    {
        _tracer = tracer;
        _meter = meter;
        TraceFile = traceFile;
        PrometheusEndpoint = prometheus;
    }

    /// <summary>The trace file being written, if any.</summary>
    public ChromeTraceWriter? TraceFile { get; }

    /// <summary>The Prometheus scrape URL, if that exporter is on.</summary>
    public Uri? PrometheusEndpoint { get; }

    public bool IsActive => _tracer is not null || _meter is not null;

    /// <summary>
    /// Builds the providers. <paramref name="traces"/> and <paramref name="metrics"/> add more (tests
    /// add the in-memory exporter); the trace file is created here (IOException or
    /// UnauthorizedAccessException when it cannot be).
    /// </summary>
    public static TelemetryPipeline Start(TelemetrySettings settings, Action<TracerProviderBuilder>? traces = null,
        Action<MeterProviderBuilder>? metrics = null, int expectedVms = 0, Func<Activity, bool>? traceFileFilter = null)
    {
        ResourceBuilder resource = ResourceBuilder.CreateDefault().AddService("hv", serviceVersion: HvTelemetry.Version);
        bool console = settings.Exporters.Contains(TelemetryExporter.Console);
        bool otlp = settings.Exporters.Contains(TelemetryExporter.Otlp);
        bool prometheus = settings.Exporters.Contains(TelemetryExporter.Prometheus);

        ChromeTraceWriter? file = settings.TraceFile is { } path ? new ChromeTraceWriter(path, traceFileFilter) : null;
        file?.SetMetadata("sliceSampling", settings.EffectiveSliceSampling.ToString("R", System.Globalization.CultureInfo.InvariantCulture));

        TracerProvider? tracer = null;
        if (console || otlp || file is not null || traces is not null)
        {
            TracerProviderBuilder b = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource(HvTelemetry.Wildcard)
                .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()));
            if (file is not null)
            {
                b.AddProcessor(file);
            }
            if (console)
            {
                b.AddConsoleExporter();
            }
            if (otlp)
            {
                b.AddOtlpExporter(o => Otlp(o, settings, "traces"));
            }
            traces?.Invoke(b);
            tracer = b.Build();
        }

        MeterProvider? meter = null;
        Uri? scrape = null;
        if (console || otlp || prometheus || metrics is not null)
        {
            int interval = (int)Math.Clamp(settings.MetricInterval.TotalMilliseconds, 100, int.MaxValue);
            MeterProviderBuilder b = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(resource)
                .AddMeter(HvTelemetry.MeterName)
                // One series per VM and label: room for every VM of a large fleet.
                .AddView(i => i.Meter.Name == HvTelemetry.MeterName ? new MetricStreamConfiguration { CardinalityLimit = Math.Max(2000, expectedVms * 40 + 100) } : null);
            if (console)
            {
                b.AddConsoleExporter((_, r) => r.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval);
            }
            if (otlp)
            {
                b.AddOtlpExporter((o, r) =>
                {
                    Otlp(o, settings, "metrics");
                    r.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;
                });
            }
            if (prometheus)
            {
                b.AddPrometheusHttpListener(o =>
                {
                    o.Host = "127.0.0.1";
                    o.Port = settings.PrometheusPort;
                    o.ScrapeResponseCacheDurationMilliseconds = 0;
                });
                scrape = new Uri($"http://127.0.0.1:{settings.PrometheusPort}/metrics");
            }
            metrics?.Invoke(b);
            meter = b.Build();
        }
        return new TelemetryPipeline(tracer, meter, file, scrape);
    }

    private static void Otlp(OtlpExporterOptions o, TelemetrySettings settings, string signal)
    {
        Uri endpoint = settings.OtlpEndpoint;
        if (settings.OtlpProtocol == OtlpProtocol.HttpProtobuf)
        {
            o.Protocol = OtlpExportProtocol.HttpProtobuf;
            // A bare endpoint gets the signal's path; a full one is used as it is.
            if (endpoint.AbsolutePath is "" or "/")
            {
                endpoint = new Uri(endpoint, $"/v1/{signal}");
            }
        }
        else
        {
            o.Protocol = OtlpExportProtocol.Grpc;
        }
        o.Endpoint = endpoint;
    }

    /// <summary>Collects and exports the metrics now (while the fleet's counters are still there).</summary>
    public void CollectMetrics(int timeoutMilliseconds = 10_000) => _meter?.ForceFlush(timeoutMilliseconds);

    /// <summary>Exports the spans ended so far.</summary>
    public void FlushTraces(int timeoutMilliseconds = 10_000) => _tracer?.ForceFlush(timeoutMilliseconds);

    public void Dispose()
    {
        _tracer?.ForceFlush(10_000);
        _tracer?.Dispose();
        _meter?.Dispose();
        TraceFile?.Dispose();
    }
}
