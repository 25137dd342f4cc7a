using System.Text.Json;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Profiling;

/// <summary><c>hv profile</c> and <c>hv coverage</c> end to end, in-process.</summary>
public sealed class ProfileCommandTests
{
    private static readonly string Demo = RepoPaths.Guest("profile-demo");

    [Theory]
    [InlineData("interp", "patch")]
    [InlineData("bt", "translate")]
    [InlineData("hybrid", "patch")]
    public void Profile_lists_the_hottest_blocks_and_functions(string engine, string method)
    {
        CliResult r = CliHarness.Run(null, "profile", Demo, "--engine", engine, "--method", method, "--top", "5");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"{engine} engine, {method} method", r.Out);
        Assert.Contains("hottest blocks", r.Out);
        Assert.Contains("hottest functions", r.Out);
        // the loop body is the hottest block: 99 entries of 3 instructions, at its source line
        string hottest = r.Out.Split('\n').SkipWhile(l => !l.StartsWith("hottest blocks", StringComparison.Ordinal)).ElementAt(2);
        Assert.Matches(@"^\s+0x80000080\s+triangle\+0x10\s+profile-demo\.c:25\s+99\s+3\s+297\s+\d+\.\d\d%$", hottest);
        Assert.Matches(@"(?m)^\s+counted\s+0x80000060\s+profile-demo\.c:18\s+37\s+1\s+148\s", r.Out);
        Assert.Contains("powered off (pass)", r.Error);
    }

    [Fact]
    public void Profile_json_has_the_counts()
    {
        CliResult r = CliHarness.Run(null, "profile", Demo, "--json", "--top", "50");

        using JsonDocument doc = JsonDocument.Parse(r.LastOutLine);
        JsonElement vm = doc.RootElement.GetProperty("vms")[0];
        Assert.Equal("profile-demo", vm.GetProperty("name").GetString());
        Assert.Equal("translate", vm.GetProperty("method").GetString());
        JsonElement counted = vm.GetProperty("functions").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "counted");
        Assert.Equal(37, counted.GetProperty("calls").GetInt64());
        JsonElement loop = vm.GetProperty("blocks")[0];
        Assert.Equal("0x80000080", loop.GetProperty("address").GetString());
        Assert.Equal(25, loop.GetProperty("line").GetInt32());
        Assert.Equal(99, loop.GetProperty("entries").GetInt64());
        double shares = vm.GetProperty("functions").EnumerateArray().Sum(f => f.GetProperty("share").GetDouble());
        Assert.InRange(shares, 0.999, 1.001);
    }

    [Fact]
    public void Coverage_writes_a_tracefile_and_prints_a_summary()
    {
        string file = Path.Combine(Path.GetTempPath(), $"hv-cov-{Guid.NewGuid():N}.info");
        try
        {
            CliResult r = CliHarness.Run(null, "coverage", Demo, "-o", file, "--method", "patch");

            Assert.Equal(0, r.ExitCode);
            Assert.Matches(@"^profile-demo: functions \d+/\d+ \(.*\), lines \d+/\d+ \(.*\), branches \d+/\d+ \(.*\), blocks \d+/\d+ \(.*\)\n$", r.Out);
            LcovRecord demo = LcovRecord.Parse(File.ReadAllText(file)).Single(x => x.SourceFile.EndsWith("profile-demo.c", StringComparison.Ordinal));
            Assert.True(Path.IsPathRooted(demo.SourceFile) && File.Exists(demo.SourceFile), demo.SourceFile);
            Assert.Equal(37, demo.FunctionHits["counted"]);
            Assert.Equal(0, demo.Lines[ProfiledGuest.MarkedLine("profile-demo", "profile-demo.c", "@never-taken")]);
            Assert.All(LcovRecord.Parse(File.ReadAllText(file)), x => Assert.True(File.Exists(x.SourceFile), x.SourceFile));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Coverage_of_a_guest_without_debug_info_says_so()
    {
        string file = Path.Combine(Path.GetTempPath(), $"hv-cov-{Guid.NewGuid():N}.info");
        try
        {
            CliResult r = CliHarness.Run(null, "coverage", RepoPaths.Guest("selfsum"), "-o", file);

            Assert.Equal(0, r.ExitCode);
            Assert.Contains("lines - (no debug info)", r.Out);
            Assert.Contains("hv: note: ", r.Error);
            Assert.Contains("no debug info", r.Error);
            Assert.Empty(LcovRecord.Parse(File.ReadAllText(file)).Single().Lines);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_scenario_gets_one_section_per_vm()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"hv-cov-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string scenario = Path.Combine(dir, "two.hocon");
            File.WriteAllText(scenario, $$"""
                hypervisor {
                  vms = [
                    { name = demo, image = "{{Demo}}", engine = bt }
                    { name = sum, image = "{{RepoPaths.Guest("selfsum")}}", memory = 4M }
                  ]
                }
                """);
            string file = Path.Combine(dir, "coverage.info");

            CliResult cov = CliHarness.Run(null, "coverage", scenario, "-o", file, "--method", "patch");
            CliResult prof = CliHarness.Run(null, "profile", scenario, "--top", "3");

            Assert.Equal(0, cov.ExitCode);
            List<LcovRecord> records = LcovRecord.Parse(File.ReadAllText(file));
            Assert.Equal(["demo", "sum"], records.Select(x => x.TestName).Distinct());
            Assert.Equal(37, records.Single(x => x.TestName == "demo" && x.SourceFile.EndsWith("profile-demo.c", StringComparison.Ordinal)).FunctionHits["counted"]);
            Assert.StartsWith("demo: ", cov.Out);
            Assert.Contains("\nsum: ", cov.Out);
            Assert.Equal(0, prof.ExitCode);
            Assert.Contains("== demo (", prof.Out);
            Assert.Contains("bt engine", prof.Out);
            Assert.Contains("== sum (", prof.Out);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("hv: --method: 'sampling' is not a profiling method (patch, translate)", "profile", "{demo}", "--method", "sampling")]
    [InlineData("hv: --engine: 'qemu' is not an engine (interp, bt, hybrid)", "profile", "{demo}", "--engine", "qemu")]
    [InlineData("hv: /no/such.elf: no such file", "profile", "/no/such.elf")]
    [InlineData("hv: --top: must be at least 1 (got 0)", "profile", "{demo}", "--top", "0")]
    [InlineData("hv: /no/such.hocon: no such file", "coverage", "/no/such.hocon", "-o", "/tmp/x.info")]
    [InlineData("hv: -o: /no/such/dir/x.info: folder /no/such/dir does not exist", "coverage", "{demo}", "-o", "/no/such/dir/x.info")]
    public void Bad_input_gets_one_clear_line_and_exit_code_2(string expected, params string[] args)
    {
        CliResult r = CliHarness.Run(null, [.. args.Select(a => a == "{demo}" ? Demo : a)]);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal(expected, r.Error.Trim());
    }

    [Fact]
    public void Coverage_needs_an_output_file()
    {
        CliResult r = CliHarness.Run(null, "coverage", Demo);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--output", r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
    }
}
