namespace Hypervisor.Actors.Telemetry;

/// <summary>Where spans and metrics go (the <c>hypervisor.telemetry</c> block of hocon/hypervisor.conf, or the command line).</summary>
public enum TelemetryExporter
{
    /// <summary>OpenTelemetry's console exporter: spans and metrics printed to standard output.</summary>
    Console,

    /// <summary>OTLP to a collector (gRPC or HTTP/protobuf).</summary>
    Otlp,

    /// <summary>A Prometheus scrape endpoint on 127.0.0.1 (OpenTelemetry's HttpListener exporter).</summary>
    Prometheus,
}

/// <summary>OTLP transport.</summary>
public enum OtlpProtocol
{
    Grpc,
    HttpProtobuf,
}

/// <summary>The <c>hypervisor.telemetry</c> settings, typed and checked.</summary>
public sealed record TelemetrySettings
{
    /// <summary>Slice sampling when the ratio is automatic and no trace file is written.</summary>
    public const double DefaultFleetSampling = 0.01;

    public static readonly TelemetrySettings Default = new();

    /// <summary>Fraction of slices traced as spans (0..1); null = automatic (1 with a trace file, else <see cref="DefaultFleetSampling"/>).</summary>
    public double? SliceSampling { get; init; }

    /// <summary>Per-VM metrics carry a <c>vm.name</c> attribute; off = fleet totals by engine only.</summary>
    public bool PerVmMetrics { get; init; } = true;

    public IReadOnlySet<TelemetryExporter> Exporters { get; init; } = new HashSet<TelemetryExporter>();

    /// <summary>How often push exporters (console, OTLP) export metrics.</summary>
    public TimeSpan MetricInterval { get; init; } = TimeSpan.FromSeconds(10);

    public Uri OtlpEndpoint { get; init; } = new("http://localhost:4317");

    public OtlpProtocol OtlpProtocol { get; init; } = OtlpProtocol.Grpc;

    /// <summary>Port of the Prometheus scrape endpoint http://127.0.0.1:port/metrics.</summary>
    public int PrometheusPort { get; init; } = 9464;

    /// <summary>Chrome Trace Event JSON file to write; null = none.</summary>
    public string? TraceFile { get; init; }

    /// <summary>The ratio in force: explicit, or automatic.</summary>
    public double EffectiveSliceSampling => SliceSampling ?? (TraceFile is not null ? 1.0 : DefaultFleetSampling);

    /// <summary>True when anything listens: an exporter or a trace file.</summary>
    public bool AnyOutput => Exporters.Count > 0 || TraceFile is not null;

    /// <summary>Parses a sampling ratio: "auto", or a number in 0..1 (also "1%" .. "100%").</summary>
    public static bool TryParseSampling(string text, out double? ratio)
    {
        ratio = null;
        string t = text.Trim();
        if (t.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        bool percent = t.EndsWith('%');
        if (percent)
        {
            t = t[..^1];
        }
        if (!double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double r))
        {
            return false;
        }
        r = percent ? r / 100 : r;
        if (double.IsNaN(r) || r < 0 || r > 1)
        {
            return false;
        }
        ratio = r;
        return true;
    }

    /// <summary>Parses an exporter list "console,otlp,prometheus" ("none" or "" = none); null when a name is unknown (<paramref name="bad"/> says which).</summary>
    public static HashSet<TelemetryExporter>? ParseExporters(IEnumerable<string> names, out string? bad)
    {
        bad = null;
        var set = new HashSet<TelemetryExporter>();
        foreach (string raw in names)
        {
            string n = raw.Trim().ToLowerInvariant();
            switch (n)
            {
                case "" or "none":
                    break;
                case "console":
                    set.Add(TelemetryExporter.Console);
                    break;
                case "otlp":
                    set.Add(TelemetryExporter.Otlp);
                    break;
                case "prometheus":
                    set.Add(TelemetryExporter.Prometheus);
                    break;
                default:
                    bad = raw;
                    return null;
            }
        }
        return set;
    }

    /// <summary>Checks an OTLP endpoint: an absolute http(s) URI.</summary>
    public static bool TryParseEndpoint(string text, out Uri? uri) =>
        Uri.TryCreate(text.Trim(), UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    public static bool TryParseProtocol(string text, out OtlpProtocol protocol)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "grpc":
                protocol = OtlpProtocol.Grpc;
                return true;
            case "http" or "http/protobuf":
                protocol = OtlpProtocol.HttpProtobuf;
                return true;
            default:
                protocol = OtlpProtocol.Grpc;
                return false;
        }
    }
}
