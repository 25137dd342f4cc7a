using System.CommandLine;
using Hypervisor.Actors.Telemetry;

namespace Hypervisor.Cli.Telemetry;

/// <summary>
/// The telemetry options of <c>hv run</c> (for a scenario and for a guest ELF): they override the
/// scenario's <c>hypervisor.telemetry</c> block (docs/telemetry.md).
/// </summary>
internal sealed class TelemetryOptions
{
    public readonly Option<string?> TraceOut = new("--trace-out") { Description = "Write a Chrome Trace Event JSON file (Perfetto, chrome://tracing, hv report): one track per host thread and one per VM" };
    public readonly Option<string?> Exporters = new("--telemetry") { Description = "Telemetry exporters, comma-separated: console, otlp, prometheus (none = off); overrides telemetry.exporters" };
    public readonly Option<string?> OtlpEndpoint = new("--otlp-endpoint") { Description = "OTLP collector URL (e.g. http://localhost:4317); turns the otlp exporter on" };
    public readonly Option<string?> OtlpProtocol = new("--otlp-protocol") { Description = "OTLP transport: grpc or http" };
    public readonly Option<int?> PrometheusPort = new("--prometheus-port") { Description = "Serve Prometheus metrics on http://127.0.0.1:PORT/metrics; turns the prometheus exporter on" };
    public readonly Option<string?> Sampling = new("--trace-sampling") { Description = "Fraction of slices traced as spans: 0..1, a percentage, or auto (1 with --trace-out, else 0.01)" };

    public IEnumerable<Option> All => [TraceOut, Exporters, OtlpEndpoint, OtlpProtocol, PrometheusPort, Sampling];

    public void AddTo(Command command)
    {
        foreach (Option o in All)
        {
            command.Options.Add(o);
        }
    }

    public TelemetryOverrides Read(ParseResult p) => new(p.GetValue(TraceOut), p.GetValue(Exporters), p.GetValue(OtlpEndpoint),
        p.GetValue(OtlpProtocol), p.GetValue(PrometheusPort), p.GetValue(Sampling));
}

/// <summary>Telemetry settings given on the command line (null = keep the scenario's).</summary>
public sealed record TelemetryOverrides(string? TraceOut = null, string? Exporters = null, string? OtlpEndpoint = null, string? OtlpProtocol = null,
    int? PrometheusPort = null, string? Sampling = null)
{
    public static readonly TelemetryOverrides None = new();

    /// <summary>The settings with these overrides; a bad value is a <see cref="CliException"/> naming the option.</summary>
    public TelemetrySettings Apply(TelemetrySettings s)
    {
        if (Exporters is not null)
        {
            HashSet<TelemetryExporter>? set = TelemetrySettings.ParseExporters(Exporters.Split(','), out string? bad)
                ?? throw new CliException($"--telemetry: '{bad}' is not an exporter (console, otlp, prometheus, none)");
            s = s with { Exporters = set };
        }
        if (OtlpEndpoint is not null)
        {
            if (!TelemetrySettings.TryParseEndpoint(OtlpEndpoint, out Uri? uri))
            {
                throw new CliException($"--otlp-endpoint: '{OtlpEndpoint}' is not an http:// or https:// URL (e.g. http://localhost:4317)");
            }
            s = s with { OtlpEndpoint = uri!, Exporters = new HashSet<TelemetryExporter>(s.Exporters) { TelemetryExporter.Otlp } };
        }
        if (OtlpProtocol is not null)
        {
            if (!TelemetrySettings.TryParseProtocol(OtlpProtocol, out OtlpProtocol protocol))
            {
                throw new CliException($"--otlp-protocol: '{OtlpProtocol}' is not an OTLP protocol (grpc, http)");
            }
            s = s with { OtlpProtocol = protocol };
        }
        if (PrometheusPort is int port)
        {
            if (port is < 1 or > 65535)
            {
                throw new CliException($"--prometheus-port: must be a TCP port from 1 to 65535 (got {port})");
            }
            s = s with { PrometheusPort = port, Exporters = new HashSet<TelemetryExporter>(s.Exporters) { TelemetryExporter.Prometheus } };
        }
        if (Sampling is not null)
        {
            if (!TelemetrySettings.TryParseSampling(Sampling, out double? ratio))
            {
                throw new CliException($"--trace-sampling: '{Sampling}' is not a sampling ratio (auto, or 0..1 such as 0.01, or a percentage such as 5%)");
            }
            s = s with { SliceSampling = ratio };
        }
        if (TraceOut is not null)
        {
            s = s with { TraceFile = TraceOut.Length == 0 ? null : TraceOut };
        }
        return s;
    }

    /// <summary>Starts the OpenTelemetry pipeline; a trace file or port that cannot be used is one clear <see cref="CliException"/>.</summary>
    public static TelemetryPipeline Start(TelemetrySettings settings, string origin, int vms)
    {
        try
        {
            return TelemetryPipeline.Start(settings, expectedVms: vms);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{origin}: cannot write the trace file {settings.TraceFile}: {e.Message}");
        }
        catch (System.Net.HttpListenerException e)
        {
            throw new CliException($"telemetry.prometheus.port: cannot listen on 127.0.0.1:{settings.PrometheusPort}: {e.Message}");
        }
        catch (InvalidOperationException e) when (e.InnerException is System.Net.HttpListenerException inner)
        {
            throw new CliException($"telemetry.prometheus.port: cannot listen on 127.0.0.1:{settings.PrometheusPort}: {inner.Message}");
        }
    }
}
