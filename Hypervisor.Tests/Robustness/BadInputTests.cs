using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Robustness;

/// <summary>
/// Bad input of every kind gets one clear line naming the file and the key (or the option), exit code
/// 2, and never a stack trace (docs/robustness.md lists every case with its exact output).
/// </summary>
public sealed class BadInputTests
{
    private readonly string _dir = Actors.FleetRun.TempDir(); // removed when the test process exits

    private const string Vm = "name = a, image = \"hello.elf\"";

    private string Scenario(string text)
    {
        File.Copy(RepoPaths.Guest("hello"), Path.Combine(_dir, "hello.elf"), overwrite: true);
        string path = Path.Combine(_dir, "bad.hocon");
        File.WriteAllText(path, text);
        return path;
    }

    private static void OneClearLine(CliResult r, string expected)
    {
        Assert.Equal(2, r.ExitCode);
        string[] lines = r.Error.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
        Assert.StartsWith("hv: ", lines[0]);
    }

    [Theory]
    [InlineData("hypervisor { vms = [ { " + Vm + " }", "line 1, column 20: malformed HOCON: '[' is never closed")]
    [InlineData("hypervisor { scheduler { slices = 5 }, vms = [ { " + Vm + " } ] }", "line 1, column 38: malformed HOCON: unknown token (Akka's HOCON parser takes no comma after a closing '}'")]
    [InlineData("include \"nothere.conf\"\nhypervisor { vms = [ { " + Vm + " } ] }", "include: scenarios cannot include other files")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", devices = { type = pulse } } ] }", "hypervisor.vms[0].devices: must be a list [ ... ], not an object")]
    [InlineData("akka { loglevel = LOUD }\nhypervisor { vms = [ { " + Vm + " } ] }", "akka: Akka refused the configuration: Unknown LogLevel")]
    [InlineData("hypervisor { vm-dispatcher { type = Nope }\nvms = [ { " + Vm + " } ] }", "hypervisor.vm-dispatcher: Akka cannot build this dispatcher")]
    [InlineData("hypervisr { vms = [ { " + Vm + " } ] }", "hypervisr: unknown key")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", wieght = 2 } ] }", "hypervisor.vms[0].wieght: unknown key (known here: name, image,")]
    [InlineData("hypervisor { vms = [ { name = a, image = \"nope.elf\" } ] }", "hypervisor.vms[0].image:")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", engine = qemu } ] }", "hypervisor.vms[0].engine: 'qemu' is not an engine (interp, bt, hybrid)")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", memory = 3G } ] }", "hypervisor.vms[0].memory: memory must be a multiple of 64 KiB between 64 KiB and 2 GiB (got 3221225472 bytes)")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", memory = 1T } ] }", "hypervisor.vms[0].memory: '1T' is not a size")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", weight = -1 } ] }", "hypervisor.vms[0].weight: must be a positive integer up to 10000 (got -1)")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", fault-injection { kind = meltdown, at-instret = 10 } } ] }",
        "hypervisor.vms[0].fault-injection.kind: 'meltdown' is not a fault kind (none, host-exception)")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", fault-injection { kind = host-exception, at-instret = -5 } } ] }",
        "hypervisor.vms[0].fault-injection.at-instret: must be between 0 and")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", fault-injection { kind = host-exception } } ] }",
        "hypervisor.vms[0].fault-injection.at-instret: must be at least 1 with kind = host-exception")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", fault-injection { at-instret = 100 } } ] }",
        "hypervisor.vms[0].fault-injection.at-instret: is set but kind = none injects nothing (set kind = host-exception)")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", fault-injection = 5 } ] }", "hypervisor.vms[0].fault-injection: must be an object { ... }")]
    [InlineData("hypervisor { vms = [ { " + Vm + ", fault-injection { when = 3 } } ] }", "hypervisor.vms[0].fault-injection.when: unknown key (known here: kind, at-instret)")]
    public void A_bad_scenario_gets_one_line_naming_the_file_and_the_key(string text, string expected)
    {
        string path = Scenario(text);

        CliResult r = CliHarness.Run(null, "run", path, "--out", Path.Combine(_dir, "out"));

        OneClearLine(r, $"{path}: {expected}");
    }

    [Fact]
    public void Bad_elf_files_get_one_line_each()
    {
        byte[] hello = File.ReadAllBytes(RepoPaths.Guest("hello"));
        var cases = new (string Name, byte[] Bytes, string Expected)[]
        {
            ("text.elf", "hello, I am a text file\n"u8.ToArray(), "not an ELF file"),
            ("empty.elf", [], "not an ELF file"),
            ("truncated.elf", hello[..60], "malformed ELF"),
            ("cut.elf", hello[..0x1100], "malformed ELF"),
            ("elf64.elf", [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, .. new byte[56]], "a 64-bit ELF; the guest machine is RV32"),
            ("big.elf", [0x7f, (byte)'E', (byte)'L', (byte)'F', 1, 2, 1, 0, .. new byte[44]], "a big-endian ELF"),
        };
        foreach ((string name, byte[] bytes, string expected) in cases)
        {
            string path = Path.Combine(_dir, name);
            File.WriteAllBytes(path, bytes);
            OneClearLine(CliHarness.Run(null, "run", path), expected);
        }
        OneClearLine(CliHarness.Run(null, "run", Path.Combine(_dir, "missing.elf")), "no such file");
        OneClearLine(CliHarness.Run(null, "run", _dir), "a directory, not an ELF file");
    }

    [Theory]
    [InlineData("frobnicate", "Unrecognized command or argument 'frobnicate'")]
    [InlineData("bench warp", "Unrecognized command or argument 'warp'")]
    [InlineData("bench weights --seconds -1", "--seconds: must be a number of seconds above 0 and at most a day (got -1)")]
    [InlineData("bench fairness --vms 0", "--vms: must be at least 1 (got 0)")]
    [InlineData("bench fairness --slice 5", "--slice: must be between 1000 and 1000000000 (got 5)")]
    [InlineData("bench idle --warmup -2", "--warmup: must be a number of seconds from 0 to a day (got -2)")]
    [InlineData("run x.elf --max-instructions -5", "--max-instructions: '-5' is not a whole number of at least 0")]
    [InlineData("run x.elf --memory-quota 1K", "--memory-quota: memory quota must be at least 64 KiB (got 1024 bytes)")]
    [InlineData("bench fairness --vms many", "--vms: 'many' is not a whole number")]
    [InlineData("bench weights --seconds abc", "--seconds: 'abc' is not a number")]
    [InlineData("bench storm --neighbours 0", "--neighbours: must be at least 1 (got 0)")]
    [InlineData("bench telemetry --seconds -3", "--seconds: must be a number of seconds above 0 (got -3)")]
    [InlineData("fuzz --policy turbo", "--policy: 'turbo' is not a hybrid policy (mode-split, hot-threshold, trap-and-emulate)")]
    public void Bad_command_lines_get_one_line_each(string args, string expected)
    {
        string[] argv = args.Split(' ');
        for (int i = 0; i < argv.Length; i++)
        {
            if (argv[i] == "x.elf")
            {
                argv[i] = RepoPaths.Guest("hello");
            }
        }

        OneClearLine(CliHarness.Run(null, argv), expected);
    }
}
