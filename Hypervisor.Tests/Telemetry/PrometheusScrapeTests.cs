using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Telemetry;

namespace Hypervisor.Tests.Telemetry;

/// <summary>A real Prometheus scrape of the running endpoint on 127.0.0.1, parsed.</summary>
public sealed partial class PrometheusScrapeTests
{
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Fact]
    public async Task The_scrape_endpoint_serves_every_vms_instructions_in_prometheus_text_format()
    {
        int port = FreePort();
        var settings = new TelemetrySettings
        {
            SliceSampling = 0,
            Exporters = new HashSet<TelemetryExporter> { TelemetryExporter.Prometheus },
            PrometheusPort = port,
        };
        using TelemetryPipeline pipeline = TelemetryPipeline.Start(settings);
        Assert.Equal(new Uri($"http://127.0.0.1:{port}/metrics"), pipeline.PrometheusEndpoint);
        string body = "";
        FleetCompleted done = await TelemetryFleet.RunAsync(
            TelemetryFleet.Scenario(settings, 100_000, ("prom-hello", "hello"), ("prom-minios", "minios")), pipeline,
            async () =>
            {
                // The fleet has ended but still exists: its figures are final; scrape them over HTTP.
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                HttpResponseMessage response = await http.GetAsync(pipeline.PrometheusEndpoint);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType ?? "");
                body = await response.Content.ReadAsStringAsync();
            });

        var samples = new List<(string Name, Dictionary<string, string> Labels, double Value)>();
        var types = new Dictionary<string, string>();
        foreach (string line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ');
                types[parts[2]] = parts[3];
                continue;
            }
            if (line.StartsWith('#'))
            {
                continue;
            }
            Match m = Sample().Match(line);
            Assert.True(m.Success, $"not a Prometheus sample line: {line}");
            var labels = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["k"].Value, l => l.Groups["v"].Value);
            samples.Add((m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
        Assert.Equal("counter", types["hv_vm_instructions_total"]);
        Assert.Equal("histogram", types["hv_slice_duration_seconds"]);
        foreach (VmStatus vm in done.Status.Vms)
        {
            double instructions = samples.Single(s => s.Name == "hv_vm_instructions_total" && s.Labels.GetValueOrDefault("vm_name") == vm.Name).Value;
            Assert.Equal((double)vm.Stats.Instret, instructions);
            Assert.Equal("interp", samples.First(s => s.Name == "hv_vm_instructions_total" && s.Labels["vm_name"] == vm.Name).Labels["engine"]);
            double slices = samples.Where(s => s.Name == "hv_vm_slices_total" && s.Labels.GetValueOrDefault("vm_name") == vm.Name).Sum(s => s.Value);
            Assert.Equal(vm.Stats.Slices, (long)slices);
        }
        Assert.Contains(samples, s => s.Name == "hv_slice_duration_seconds_bucket" && s.Labels.GetValueOrDefault("le") == "+Inf" && s.Value > 0);
    }
}
