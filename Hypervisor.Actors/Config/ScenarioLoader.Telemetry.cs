using Hypervisor.Actors.Telemetry;
using AkkaConfig = Akka.Configuration.Config;

namespace Hypervisor.Actors.Config;

public static partial class ScenarioLoader
{
    private sealed partial class Reader
    {
        /// <summary>The <c>hypervisor.telemetry</c> block (docs/telemetry.md).</summary>
        private TelemetrySettings ReadTelemetry(AkkaConfig h)
        {
            const string at = Root + ".telemetry";
            AkkaConfig t = h.GetConfig("telemetry");
            string sampling = String(t, "slice-sampling", at);
            if (!TelemetrySettings.TryParseSampling(sampling, out double? ratio))
            {
                throw Error($"{at}.slice-sampling", $"'{sampling}' is not a sampling ratio (auto, or a number from 0 to 1 such as 0.01, or a percentage such as 5%)");
            }
            var names = new List<string>();
            foreach (var item in List(t.GetValue("exporters"), $"{at}.exporters", "a list such as [console, otlp, prometheus]"))
            {
                if (item.IsObject() || item.IsArray())
                {
                    throw Error($"{at}.exporters", "must be a list of exporter names (console, otlp, prometheus)");
                }
                names.Add(item.GetString() ?? "");
            }
            HashSet<TelemetryExporter>? exporters = TelemetrySettings.ParseExporters(names, out string? bad);
            if (exporters is null)
            {
                throw Error($"{at}.exporters", $"'{bad}' is not an exporter (console, otlp, prometheus)");
            }
            string endpoint = String(t, "otlp.endpoint", at);
            if (!TelemetrySettings.TryParseEndpoint(endpoint, out Uri? uri))
            {
                throw Error($"{at}.otlp.endpoint", $"'{endpoint}' is not an http:// or https:// URL (e.g. http://localhost:4317)");
            }
            string protocol = String(t, "otlp.protocol", at);
            if (!TelemetrySettings.TryParseProtocol(protocol, out OtlpProtocol otlpProtocol))
            {
                throw Error($"{at}.otlp.protocol", $"'{protocol}' is not an OTLP protocol (grpc, http)");
            }
            string traceFile = String(t, "trace-file", at);
            return new TelemetrySettings
            {
                SliceSampling = ratio,
                PerVmMetrics = Boolean(t, "per-vm-metrics", at),
                Exporters = exporters,
                MetricInterval = Duration(t, "metric-interval", at, allowZero: false),
                OtlpEndpoint = uri!,
                OtlpProtocol = otlpProtocol,
                PrometheusPort = (int)Integer(t, "prometheus.port", at, 1, 65535),
                TraceFile = traceFile.Length == 0 ? null : traceFile,
            };
        }
    }
}
