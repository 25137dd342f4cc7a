using Hypervisor.Actors.Config;
using Hypervisor.Actors.Telemetry;
using Hypervisor.Tests.Actors;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Telemetry;

/// <summary>The telemetry keys of a scenario and the telemetry options of <c>hv run</c>: read when right, one clear error when not.</summary>
public sealed class TelemetryConfigTests
{
    private static Scenario Parse(string telemetry) => ScenarioLoader.Parse(
        $"hypervisor {{\n telemetry {{\n{telemetry}\n }}\n vms = [ {{ name = a, image = \"{FleetRun.Guest("hello")}\" }} ]\n}}\n", "t.hocon", RepoPaths.Root);

    [Fact]
    public void The_telemetry_block_is_read_into_typed_settings()
    {
        TelemetrySettings s = Parse("slice-sampling = \"5%\"\nexporters = [prometheus, otlp]\notlp { endpoint = \"http://127.0.0.1:4318\"\nprotocol = http }\n" +
            "prometheus { port = 9999 }\ntrace-file = run.json\nper-vm-metrics = off\nmetric-interval = 2s").Settings.Telemetry;
        Assert.Equal(0.05, s.SliceSampling!.Value, 9);
        Assert.Equal(new HashSet<TelemetryExporter> { TelemetryExporter.Prometheus, TelemetryExporter.Otlp }, s.Exporters);
        Assert.Equal(OtlpProtocol.HttpProtobuf, s.OtlpProtocol);
        Assert.Equal(9999, s.PrometheusPort);
        Assert.Equal("run.json", s.TraceFile);
        Assert.False(s.PerVmMetrics);
        Assert.Equal(TimeSpan.FromSeconds(2), s.MetricInterval);

        TelemetrySettings defaults = Parse("per-vm-metrics = on").Settings.Telemetry;
        Assert.Null(defaults.SliceSampling);
        Assert.Equal(TelemetrySettings.DefaultFleetSampling, defaults.EffectiveSliceSampling);
        Assert.Equal(1.0, (defaults with { TraceFile = "x.json" }).EffectiveSliceSampling);
        Assert.Empty(defaults.Exporters);
    }

    [Theory]
    [InlineData("slice-sampling = 2", "hypervisor.telemetry.slice-sampling", "is not a sampling ratio")]
    [InlineData("exporters = [console, jaeger]", "hypervisor.telemetry.exporters", "'jaeger' is not an exporter")]
    [InlineData("otlp { endpoint = \"localhost:4317\" }", "hypervisor.telemetry.otlp.endpoint", "is not an http:// or https:// URL")]
    [InlineData("otlp { protocol = udp }", "hypervisor.telemetry.otlp.protocol", "is not an OTLP protocol")]
    [InlineData("prometheus { port = 70000 }", "hypervisor.telemetry.prometheus.port", "must be between 1 and 65535")]
    [InlineData("trace-out = x.json", "hypervisor.telemetry.trace-out", "unknown key")]
    public void A_bad_value_is_one_error_naming_the_key(string telemetry, string key, string problem)
    {
        ScenarioException e = Assert.Throws<ScenarioException>(() => Parse(telemetry));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--telemetry", "zipkin", "--telemetry: 'zipkin' is not an exporter")]
    [InlineData("--trace-sampling", "1.5", "--trace-sampling: '1.5' is not a sampling ratio")]
    [InlineData("--otlp-endpoint", "collector:4317", "--otlp-endpoint: 'collector:4317' is not an http:// or https:// URL")]
    [InlineData("--prometheus-port", "0", "--prometheus-port: must be a TCP port")]
    public void A_bad_option_is_one_line_and_exit_code_2(string option, string value, string message)
    {
        CliResult r = CliHarness.Run(null, "run", RepoPaths.Config("demo.hocon"), option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("hv: " + message, r.Error, StringComparison.Ordinal);
        Assert.Single(r.Error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_trace_file_that_cannot_be_written_is_one_clear_error()
    {
        CliResult r = CliHarness.Run(null, "run", FleetRun.Guest("hello"), "--trace-out", "/nonexistent-dir/x/run.json");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("hv: --trace-out: cannot write the trace file /nonexistent-dir/x/run.json", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Hv_run_of_a_guest_elf_writes_a_trace_too()
    {
        string trace = Path.Combine(FleetRun.TempDir(), "hello.json");
        CliResult r = CliHarness.Run(null, "run", FleetRun.Guest("hello"), "--trace-out", trace);
        Assert.Equal(0, r.ExitCode);
        string text = File.ReadAllText(trace);
        Assert.Contains("\"name\":\"vm.slice\"", text.Replace("\"span\":\"vm.slice\"", "\"name\":\"vm.slice\"", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("\"vm.end_state\":\"powered_off\"", text, StringComparison.Ordinal);
    }
}
