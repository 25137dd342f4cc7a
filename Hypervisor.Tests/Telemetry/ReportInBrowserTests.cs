using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Telemetry;
using Hypervisor.Tests.Actors;

namespace Hypervisor.Tests.Telemetry;

/// <summary>The trace file of a small fleet, and its report opened in headless Chromium (Debian's chromium, which .ci/run installs).</summary>
public sealed partial class ReportInBrowserTests
{
    [GeneratedRegex(@"data-rendered-vm-tracks=""(\d+)""")]
    private static partial Regex RenderedTracks();

    private static async Task<(string Trace, FleetCompleted Done)> TracedFleet()
    {
        string trace = Path.Combine(FleetRun.TempDir(), "run.json");
        var settings = new TelemetrySettings { TraceFile = trace };
        // Only this fleet's spans: other tests run fleets in the same process at the same time.
        TelemetryPipeline pipeline = TelemetryPipeline.Start(settings, traceFileFilter: a =>
            a.GetTagItem(HvTelemetry.Attributes.VmName) is string vm ? vm.StartsWith("rep-", StringComparison.Ordinal) : (string?)a.GetTagItem("fleet.scenario") == "(inline)");
        FleetCompleted done = await TelemetryFleet.RunAsync(
            TelemetryFleet.Scenario(settings, 100_000, ("rep-hello", "hello"), ("rep-isa", "isa"), ("rep-minios", "minios"), ("rep-quiet", "minios")), pipeline);
        return (trace, done);
    }

    [Fact]
    public async Task The_trace_file_has_a_track_per_host_thread_and_per_vm_with_every_slice()
    {
        (string trace, FleetCompleted done) = await TracedFleet();
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(trace));
        JsonElement[] events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToArray();
        string[] vmTracks = events.Where(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name" && e.GetProperty("pid").GetInt32() == ChromeTraceWriter.VmPid)
            .Select(e => e.GetProperty("args").GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["rep-hello", "rep-isa", "rep-minios", "rep-quiet"], vmTracks.Order());
        JsonElement[] hostSlices = events.Where(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("pid").GetInt32() == ChromeTraceWriter.HostPid).ToArray();
        Assert.Equal(done.Status.SlicesGranted, hostSlices.Length);
        int threads = hostSlices.Select(e => e.GetProperty("tid").GetInt32()).Distinct().Count();
        Assert.InRange(threads, 1, 2); // host-parallelism 2
        Assert.All(hostSlices, e => Assert.Equal(32, e.GetProperty("args").GetProperty("trace_id").GetString()!.Length));
    }

    [Fact]
    public async Task The_report_renders_its_svg_timeline_in_headless_chromium_with_one_track_per_vm()
    {
        (string trace, _) = await TracedFleet();
        string html = Path.ChangeExtension(trace, ".html");
        var error = new StringWriter();
        Assert.Equal(0, Hypervisor.Cli.Commands.ReportCommand.Execute(new Hypervisor.Cli.CliContext(new MemoryStream(), error, null), trace, html));
        string page = File.ReadAllText(html);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", page, StringComparison.Ordinal);

        string dom = Chromium("--dump-dom", new Uri(html).AbsoluteUri);
        Match rendered = RenderedTracks().Match(dom);
        Assert.True(rendered.Success, "the page's script did not run in the browser:\n" + dom[..Math.Min(dom.Length, 2000)]);
        Assert.Equal("4", rendered.Groups[1].Value);
        Assert.Equal(4, Regex.Matches(dom, "<g class=\"vm-track\"").Count);
        Assert.Contains("id=\"shares\"", dom, StringComparison.Ordinal);
    }

    /// <summary>Runs Debian's chromium headless, as the CI probe does, with a fresh profile; returns its stdout.</summary>
    internal static string Chromium(params string[] args)
    {
        string exe = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("chromium is not installed (apt-get install chromium; .ci/run installs it)");
        string profile = FleetRun.TempDir();
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile })
        {
            psi.ArgumentList.Add(a);
        }
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("chromium did not finish in 120 s");
        }
        Assert.True(p.ExitCode == 0, $"chromium exited with {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
