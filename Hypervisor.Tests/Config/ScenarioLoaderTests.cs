using Hypervisor.Actors.Config;
using Hypervisor.Machine;
using Hypervisor.Monitor;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Config;

/// <summary>Scenario files: defaults, binding, stamping copies, and one clear message for every kind of mistake.</summary>
public sealed class ScenarioLoaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hv-cfg-" + Guid.NewGuid().ToString("N"));

    public ScenarioLoaderTests()
    {
        Directory.CreateDirectory(_dir);
        File.Copy(RepoPaths.Guest("hello"), Path.Combine(_dir, "hello.elf"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text, string name = "s.hocon")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private ScenarioException Fails(string text)
    {
        string path = Write(text);
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        return e;
    }

    [Theory]
    [InlineData("demo.hocon")]
    [InlineData("fleet.hocon")]
    [InlineData("weights.hocon")]
    public void Every_shipped_scenario_loads(string name)
    {
        Scenario s = ScenarioLoader.Load(RepoPaths.Config(name));

        Assert.NotEmpty(s.Vms);
        Assert.All(s.Vms, v => Assert.True(File.Exists(v.ImagePath)));
    }

    [Fact]
    public void The_reference_has_a_comment_above_every_key()
    {
        string[] lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "hocon", "hypervisor.conf"));
        for (int i = 0; i < lines.Length; i++)
        {
            string t = lines[i].Trim();
            bool isKey = t.Length > 0 && !t.StartsWith('#') && !t.StartsWith('}') && (t.Contains(" = ", StringComparison.Ordinal) || t.EndsWith('{'));
            if (isKey && !lines[i].Contains("dedicated-thread-pool", StringComparison.Ordinal) && !IsInsideDispatcher(lines, i))
            {
                Assert.True(i > 0 && lines[i - 1].Trim().StartsWith('#'), $"hocon/hypervisor.conf line {i + 1} ('{t}') has no comment above it");
            }
        }
    }

    private static bool IsInsideDispatcher(string[] lines, int index)
    {
        int depth = 0;
        for (int i = index - 1; i >= 0; i--)
        {
            string t = lines[i].Trim();
            if (t.StartsWith('}'))
            {
                depth++;
            }
            else if (t.EndsWith('{'))
            {
                if (depth == 0)
                {
                    return t.StartsWith("vm-dispatcher", StringComparison.Ordinal) || IsInsideDispatcher(lines, i);
                }
                depth--;
            }
        }
        return false;
    }

    [Fact]
    public void Defaults_fill_what_an_entry_leaves_out_and_count_stamps_numbered_copies()
    {
        Scenario s = ScenarioLoader.Load(Write("""
            hypervisor {
              host-parallelism = 3
              scheduler.slice = 5000
              time.instructions-per-tick = 20
              vm-defaults { memory = 8M }
              vms = [
                { name = web, image = hello.elf, count = 3, weight = 4, cap = 50 }
                { name = batch, image = hello.elf, time-mode = realtime, memory-quota = 1M }
              ]
            }
            """));

        Assert.Equal(3, s.Settings.HostParallelism);
        Assert.Equal(5000UL, s.Settings.SliceInstructions);
        Assert.Equal(["web-1", "web-2", "web-3", "batch"], s.Vms.Select(v => v.Name));
        VmSpec web = s.Vms[0];
        Assert.Equal(4, web.Weight);
        Assert.Equal(50, web.CapPercent);
        Assert.Equal(8u << 20, web.Machine.MemorySize);
        Assert.Equal(20u, web.Machine.InstructionsPerTick);
        Assert.Equal(TimeMode.Virtual, web.Machine.TimeMode);
        Assert.Equal(Path.Combine(_dir, "hello.elf"), web.ImagePath); // relative to the scenario file
        Assert.Equal(TimeMode.Realtime, s.Vms[3].Machine.TimeMode);
        Assert.Equal(1L << 20, s.Vms[3].Machine.MemoryQuota);
    }

    [Fact]
    public void Console_input_keeps_its_escapes_and_devices_are_bound()
    {
        Scenario s = ScenarioLoader.Load(Write("""
            hypervisor.vms = [
              {
                name = a, image = hello.elf
                console { input = "one\ntwo\n", input-at = 2ms }
                devices = [ { type = pulse, source = 33, period = 1ms, start = 500us, width = 10us, count = 4 } ]
              }
            ]
            """));

        VmSpec a = Assert.Single(s.Vms);
        Assert.Equal("one\ntwo\n", System.Text.Encoding.UTF8.GetString(a.Console.Input));
        Assert.Equal(20_000UL, a.Console.InputAtTicks);
        Assert.Equal(new DeviceSpec("pulse", 33, 10_000, 5_000, 100, 4), Assert.Single(a.Devices));
    }

    [Theory]
    [InlineData("hypervisor { vms = [ { name = a, image = hello.elf }\n", "line 1, column 20", "never closed")]
    [InlineData("hypervisor { vms = [ { name = a, image = hello.elf } }", "line 1", "does not match")]
    [InlineData("hypervisor { vms = [ { name = \"a, image = hello.elf } ] }", "line 1", "unterminated string")]
    [InlineData("hypervisor { vms = [ { name = a, image = hello.elf } ] } }", "line 1", "closes nothing")]
    public void Malformed_hocon_names_the_line_and_column(string text, string where, string problem)
    {
        ScenarioException e = Fails(text);

        Assert.Contains(where, e.Key);
        Assert.Contains("malformed HOCON", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("hypervisor.vms = [ { name = a, image = nope.elf } ]", "hypervisor.vms[0].image", "no such file")]
    [InlineData("hypervisor.vms = [ { name = a } ]", "hypervisor.vms[0].image", "is required")]
    [InlineData("hypervisor.vms = [ { image = hello.elf } ]", "hypervisor.vms[0].name", "is required")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, engine = quantum } ]", "hypervisor.vms[0].engine", "not an engine")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, memory = 64G } ]", "hypervisor.vms[0].memory", "larger than the 32-bit")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, memory = 3 } ]", "hypervisor.vms[0].memory", "multiple of 64 KiB")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, memory = lots } ]", "hypervisor.vms[0].memory", "not a size")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, weight = -1 } ]", "hypervisor.vms[0].weight", "positive integer")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, cap = 150 } ]", "hypervisor.vms[0].cap", "between 0 and 100")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, colour = blue } ]", "hypervisor.vms[0].colour", "unknown key")]
    [InlineData("hypervisor { vms = [ { name = a, image = hello.elf } ], sheduler.slice = 5 }", "hypervisor.sheduler", "unknown key")]
    [InlineData("hypervisor { vms = [ { name = a, image = hello.elf } ], scheduler.slice = 5 }", "hypervisor.scheduler.slice", "between 1000")]
    [InlineData("hypervisor { vms = [ { name = a, image = hello.elf } ], time.mode = sundial }", "hypervisor.time.mode", "not a time mode")]
    [InlineData("hypervisor { vms = [ { name = a, image = hello.elf } ], stop-after = soon }", "hypervisor.stop-after", "not a duration")]
    [InlineData("vms = [ { name = a, image = hello.elf } ]", "vms", "unknown key")]
    [InlineData("hypervisor.vms = []", "hypervisor.vms", "no VMs")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf }, { name = a, image = hello.elf } ]", "hypervisor.vms[1].name", "unique")]
    [InlineData("hypervisor.vms = [ { name = \"a b\", image = hello.elf } ]", "hypervisor.vms[0].name", "may only hold")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, devices = [ { type = laser } ] } ]", "hypervisor.vms[0].devices[0].type", "not a device type")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, devices = [ { source = 33, period = 1ms, colour = 1 } ] } ]", "hypervisor.vms[0].devices[0].colour", "unknown key")]
    [InlineData("hypervisor.vms = [ { name = a, image = hello.elf, console.input-file = missing.txt } ]", "hypervisor.vms[0].console.input-file", "no such file")]
    public void A_bad_value_gets_one_message_naming_the_key(string text, string key, string problem)
    {
        ScenarioException e = Fails(text);

        Assert.Equal(key, e.Key);
        Assert.Contains(problem, e.Problem);
    }

    [Fact]
    public void An_akka_block_passes_through_to_the_actor_system()
    {
        Scenario s = ScenarioLoader.Load(Write("""
            akka.actor.default-dispatcher.throughput = 7
            hypervisor { host-parallelism = 3, vms = [ { name = a, image = hello.elf } ] }
            """));

        Akka.Configuration.Config config = Hypervisor.Actors.Hosting.FleetHost.ActorSystemConfig(s, serilog: false);

        Assert.Equal(7, config.GetInt("akka.actor.default-dispatcher.throughput"));
        Assert.Equal(3, config.GetInt("hypervisor.vm-dispatcher.dedicated-thread-pool.thread-count"));
        Assert.Equal("ForkJoinDispatcher", config.GetString("hypervisor.vm-dispatcher.type"));
    }

    [Fact]
    public void A_missing_scenario_file_is_named()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(Path.Combine(_dir, "none.hocon")));

        Assert.EndsWith("none.hocon: no such file", e.Message);
    }

    [Fact]
    public void An_image_that_is_not_an_elf_is_named_with_its_key()
    {
        File.WriteAllText(Path.Combine(_dir, "text.elf"), "not an elf");

        ScenarioException e = Fails("hypervisor.vms = [ { name = a, image = text.elf } ]");

        Assert.Equal("hypervisor.vms[0].image", e.Key);
        Assert.Contains("not an ELF", e.Problem);
    }

    [Fact]
    public void Durations_parse_with_units_and_map_to_mtime_ticks()
    {
        Assert.True(ScenarioLoader.TryParseDuration("1ms", out TimeSpan ms));
        Assert.Equal(10_000, ms.Ticks);
        Assert.True(ScenarioLoader.TryParseDuration("500us", out TimeSpan us));
        Assert.Equal(5_000, us.Ticks);
        Assert.True(ScenarioLoader.TryParseDuration("0", out TimeSpan zero));
        Assert.Equal(TimeSpan.Zero, zero);
        Assert.False(ScenarioLoader.TryParseDuration("12", out _));
        Assert.False(ScenarioLoader.TryParseDuration("soon", out _));
    }

    [Fact]
    public void An_engine_that_is_not_built_yet_is_a_config_error_today_and_works_unchanged_later()
    {
        string path = Write("hypervisor.vms = [ { name = a, image = hello.elf, engine = hybrid } ]");
        bool built;
        try
        {
            _ = new VirtualMachine("probe", Hypervisor.Loading.ElfImage.Load(RepoPaths.Guest("hello")), new MachineConfig { Engine = EngineKind.Hybrid });
            built = true;
        }
        catch (NotSupportedException)
        {
            built = false;
        }

        if (built)
        {
            Assert.Equal(EngineKind.Hybrid, Assert.Single(ScenarioLoader.Load(path).Vms).Machine.Engine);
        }
        else
        {
            var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(path));
            Assert.Equal("hypervisor.vms[0].engine", e.Key);
            Assert.Contains("not built yet", e.Problem);
            Assert.DoesNotContain("--engine", e.Problem);
        }
    }
}
