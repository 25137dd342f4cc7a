using System.Text.Json;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Actors;

/// <summary><c>hv run scenario.hocon</c> end to end: prefixed console lines, summary, JSON, exit codes, bad configs.</summary>
public sealed class FleetCommandTests
{
    [Fact]
    public void Demo_runs_with_prefixed_lines_transcripts_and_a_json_summary()
    {
        string dir = FleetRun.TempDir();

        CliResult r = CliHarness.Run(null, "run", RepoPaths.Config("demo.hocon"), "--json", "--out", dir);

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("[hello] Hello from a RISC-V guest!\n", r.Out);
        Assert.Contains("[minios] [1] reader: got \"hello minios\" (12 bytes)\n", r.Out);
        using JsonDocument doc = JsonDocument.Parse(r.LastOutLine);
        JsonElement j = doc.RootElement;
        Assert.Equal(0, j.GetProperty("exitCode").GetInt32());
        JsonElement[] vms = j.GetProperty("vms").EnumerateArray().ToArray();
        Assert.Equal(["hello", "isa", "minios", "minios-quiet"], vms.Select(v => v.GetProperty("name").GetString()));
        foreach (JsonElement v in vms)
        {
            Assert.Equal(0, v.GetProperty("exitCode").GetInt32());
            Assert.Equal(0, v.GetProperty("guestCode").GetInt32());
            Assert.Equal("PoweredOff", v.GetProperty("state").GetString());
            Assert.Equal("interp", v.GetProperty("engine").GetString());
            Assert.True(v.GetProperty("instret").GetUInt64() > 0);
            Assert.True(v.TryGetProperty("mips", out _));
            Assert.True(v.GetProperty("residentBytes").GetInt64() > 0);
            Assert.True(v.TryGetProperty("interrupts", out _));
        }
        Assert.Equal("Hello from a RISC-V guest!\n", File.ReadAllText(Path.Combine(dir, "hello.out")));
        Assert.True(File.Exists(Path.Combine(dir, "summary.json")));
        Assert.True(File.Exists(Path.Combine(dir, "hv.log")));
        Assert.Contains("done: 4 VMs", r.Error);
    }

    [Fact]
    public void A_bad_scenario_gets_one_line_naming_file_and_key_and_exit_code_2()
    {
        string dir = FleetRun.TempDir();
        string path = Path.Combine(dir, "bad.hocon");
        File.WriteAllText(path, "hypervisor.vms = [ { name = a, image = \"" + RepoPaths.Guest("hello") + "\", weight = -3 } ]");

        CliResult r = CliHarness.Run(null, "run", path);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"hv: {path}: hypervisor.vms[0].weight: must be a positive integer up to 10000 (got -3)", r.Error.Trim());
        Assert.Empty(r.Out);
    }

    [Fact]
    public void Standard_input_reaches_the_vm_named_by_stdin_to()
    {
        string dir = FleetRun.TempDir();
        string path = Path.Combine(dir, "echo.hocon");
        File.WriteAllText(path, $$"""
            hypervisor.vms = [ { name = echo, image = "{{TinyGuests.Write("echo", TinyGuests.EchoOneByte())}}", memory = 1M } ]
            """);

        CliResult r = CliHarness.Run("Q", "run", path, "--stdin-to", "echo", "--out", Path.Combine(dir, "out"));

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("[echo] Q\n", r.Out);
    }

    [Fact]
    public void A_guest_option_on_a_scenario_is_refused()
    {
        CliResult r = CliHarness.Run(null, "run", RepoPaths.Config("demo.hocon"), "--engine", "bt");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--engine: applies to a guest ELF", r.Error);
    }

    [Fact]
    public void A_failing_vm_makes_the_fleet_exit_non_zero_and_duration_stops_a_fleet()
    {
        string dir = FleetRun.TempDir();
        string path = Path.Combine(dir, "mixed.hocon");
        File.WriteAllText(path, $$"""
            hypervisor.vms = [
              { name = fails, image = "{{ActorGuests.FailWith(9)}}", memory = 1M }
              { name = spins, image = "{{ActorGuests.Spinner()}}", memory = 1M }
            ]
            """);

        CliResult r = CliHarness.Run(null, "run", path, "--json", "--out", Path.Combine(dir, "out"), "--duration", "1s");

        Assert.Equal(1, r.ExitCode); // one VM failed; the other was stopped by --duration
        using JsonDocument doc = JsonDocument.Parse(r.LastOutLine);
        JsonElement[] vms = doc.RootElement.GetProperty("vms").EnumerateArray().ToArray();
        Assert.Equal(9, vms[0].GetProperty("exitCode").GetInt32());
        Assert.Equal("Stopped", vms[1].GetProperty("state").GetString());
        Assert.Equal("TimeLimit", doc.RootElement.GetProperty("end").GetString());
    }

    [Fact]
    public void A_fleet_that_reaches_its_time_limit_with_no_failure_exits_124()
    {
        string dir = FleetRun.TempDir();
        string path = Path.Combine(dir, "spin.hocon");
        File.WriteAllText(path, $$"""
            hypervisor { stop-after = 200ms, vms = [ { name = spins, image = "{{ActorGuests.Spinner()}}", memory = 1M } ] }
            """);

        CliResult r = CliHarness.Run(null, "run", path, "--out", Path.Combine(dir, "out"));

        Assert.Equal(124, r.ExitCode);
        Assert.Contains("stopped: 1 VMs", r.Error);
    }
}
