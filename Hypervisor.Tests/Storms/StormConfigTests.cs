using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Storms;

/// <summary>Storm traffic in scenarios: the shipped storm scenarios load, every pattern binds, and every mistake gets one message naming the key.</summary>
public sealed class StormConfigTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hv-storm-cfg-" + Guid.NewGuid().ToString("N"));

    public StormConfigTests()
    {
        Directory.CreateDirectory(_dir);
        File.Copy(RepoPaths.Guest("storm"), Path.Combine(_dir, "storm.elf"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Scenario Load(string devices, string extra = "")
    {
        string path = Path.Combine(_dir, "s.hocon");
        File.WriteAllText(path, $"hypervisor.vms = [ {{ name = a, image = storm.elf, memory = 4M {extra}, devices = [ {devices} ] }} ]");
        return ScenarioLoader.Load(path);
    }

    [Theory]
    [InlineData("storm.hocon")]
    [InlineData("storm-fleet.hocon")]
    public void The_storm_scenarios_load(string name)
    {
        Scenario s = ScenarioLoader.Load(RepoPaths.Config(name));

        Assert.Contains(s.Vms, v => v.Devices.Any(d => d.DrivesGenerator));
    }

    [Fact]
    public void Every_traffic_pattern_binds()
    {
        Scenario s = Load("""
            { type = steady, source = 32, rate = 250k, start = 1ms, count = 10 }
            { type = poisson, source = 33, rate = 2M, seed = 9, duration = 5ms }
            { type = burst, source = 34, burst = 64, period = 100us, count = 3 }
            { type = storm, source = 35 }
            { type = pulse, source = 10, period = 1ms }
            """);

        IReadOnlyList<DeviceSpec> d = s.Vms[0].Devices;
        Assert.Equal(new DeviceSpec("steady", 32, 0, 10_000, 0, 10, Rate: 250_000, Burst: 1), d[0]);
        Assert.Equal(new DeviceSpec("poisson", 33, 0, 0, 0, 0, Rate: 2_000_000, Burst: 1, Seed: 9, DurationTicks: 50_000), d[1]);
        Assert.Equal(new DeviceSpec("burst", 34, 1_000, 0, 0, 3, Rate: 0, Burst: 64), d[2]);
        Assert.Equal(TrafficPattern.MaxRate, d[3].Rate);
        Assert.Equal("pulse", d[4].Type);
        Assert.False(d[4].DrivesGenerator);
    }

    [Theory]
    [InlineData("{ type = storm, source = 31 }", "", "devices[0].source", "between 32 and 63")]
    [InlineData("{ type = steady, source = 32, rate = fast }", "", "devices[0].rate", "not a rate")]
    [InlineData("{ type = steady, source = 32 }", "", "devices[0].rate", "between 1 and 10M")]
    [InlineData("{ type = poisson, source = 32, rate = 20M }", "", "devices[0].rate", "between 1 and 10M")]
    [InlineData("{ type = storm, source = 32, width = 1us }", "", "devices[0].width", "does not apply to a storm device")]
    [InlineData("{ type = burst, source = 32, burst = 0, period = 1ms }", "", "devices[0].burst", "between 1 and 1000000")]
    [InlineData("{ type = burst, source = 32, burst = 4 }", "", "devices[0].period", "positive virtual duration")]
    [InlineData("{ type = storm, source = 40 }, { type = burst, source = 40, period = 1ms }", "", "devices[1].source", "already driven by device [0]")]
    [InlineData("{ type = storm, source = 40 }", ", time-mode = realtime", "devices[0].type", "time-mode must be virtual")]
    [InlineData("{ type = gale, source = 40 }", "", "devices[0].type", "not a device type")]
    public void A_bad_traffic_setting_gets_one_message_naming_the_key(string devices, string extra, string key, string problem)
    {
        var e = Assert.Throws<ScenarioException>(() => Load(devices, extra));

        Assert.Equal($"hypervisor.vms[0].{key}", e.Key);
        Assert.Contains(problem, e.Problem);
        Assert.DoesNotContain("\n", e.Message);
    }
}
