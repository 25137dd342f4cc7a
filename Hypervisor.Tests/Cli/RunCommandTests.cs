using System.Text.Json;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Cli;

/// <summary><c>hv run guest.elf</c>: the terminal is the guest's UART, the exit code is the guest's verdict.</summary>
public sealed class RunCommandTests
{
    [Fact]
    public void Hello_prints_its_line_and_exits_zero()
    {
        CliResult r = CliHarness.Run(null, "run", RepoPaths.Guest("hello"));

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("Hello from a RISC-V guest!\n", r.Out);
        Assert.Contains("powered off (pass)", r.Error);
        Assert.Contains("MIPS", r.Error);
    }

    [Fact]
    public void Json_summary_is_the_last_line_of_stdout()
    {
        CliResult r = CliHarness.Run(null, "run", RepoPaths.Guest("hello"), "--json");

        using JsonDocument doc = JsonDocument.Parse(r.LastOutLine);
        JsonElement j = doc.RootElement;
        Assert.Equal(0, j.GetProperty("exitCode").GetInt32());
        Assert.Equal(0, j.GetProperty("guestCode").GetInt32());
        Assert.True(j.GetProperty("instret").GetUInt64() > 100);
        Assert.Equal("interp", j.GetProperty("engine").GetString());
        Assert.True(j.TryGetProperty("wallSeconds", out _));
        Assert.True(j.TryGetProperty("mips", out _));
        Assert.StartsWith("Hello from a RISC-V guest!\n", r.Out);
    }

    [Fact]
    public void Instruction_limit_stops_the_guest_with_its_own_exit_code()
    {
        CliResult r = CliHarness.Run(null, "run", RepoPaths.Guest("isa"), "--max-instructions", "1000", "--json");

        Assert.Equal(124, r.ExitCode);
        using JsonDocument doc = JsonDocument.Parse(r.LastOutLine);
        Assert.Equal(1000UL, doc.RootElement.GetProperty("instret").GetUInt64());
        Assert.Contains("--max-instructions", r.Error);
    }

    [Fact]
    public void A_missing_file_gets_one_clear_line_and_exit_code_2()
    {
        CliResult r = CliHarness.Run(null, "run", "/no/such/guest.elf");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("hv: /no/such/guest.elf: no such file", r.Error.Trim());
    }

    [Fact]
    public void A_file_that_is_not_an_elf_is_rejected_by_name()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hv-not-elf-{Guid.NewGuid():N}.elf");
        File.WriteAllText(path, "hello, I am text");
        try
        {
            CliResult r = CliHarness.Run(null, "run", path);

            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"hv: {path}: not an ELF file", r.Error.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void An_unknown_option_gets_one_line()
    {
        CliResult r = CliHarness.Run(null, "run", RepoPaths.Guest("hello"), "--frobnicate");

        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Error.Trim().Split('\n'));
        Assert.Contains("--frobnicate", r.Error);
    }

    [Theory]
    [InlineData("--memory", "lots", "not a size")]
    [InlineData("--memory", "3", "multiple of 64 KiB")]
    [InlineData("--memory", "64G", "larger than the 32-bit")]
    [InlineData("--engine", "quantum", "not an engine")]
    public void A_bad_option_value_gets_one_line_naming_the_option(string option, string value, string expected)
    {
        CliResult r = CliHarness.Run(null, "run", RepoPaths.Guest("hello"), option, value);

        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Error.Trim().Split('\n'));
        Assert.Contains(option, r.Error);
        Assert.Contains(expected, r.Error);
    }

    [Fact]
    public void A_guest_that_fails_exits_with_its_fail_code()
    {
        // isa powers off with the number of the first failing check; with too little memory for its
        // stack it faults instead — so use the finisher path through a crafted guest instead.
        string path = TinyGuests.Write("fail7", TinyGuests.FinisherFail(7));
        try
        {
            CliResult r = CliHarness.Run(null, "run", path, "--json");

            Assert.Equal(7, r.ExitCode);
            using JsonDocument doc = JsonDocument.Parse(r.LastOutLine);
            Assert.Equal(7, doc.RootElement.GetProperty("guestCode").GetInt32());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_guest_that_jumps_into_nowhere_stops_with_a_fault_report()
    {
        string path = TinyGuests.Write("wild-jump", TinyGuests.JumpTo(0x4000_0000));
        try
        {
            CliResult r = CliHarness.Run(null, "run", path);

            Assert.Equal(125, r.ExitCode);
            Assert.Contains("fatal guest fault", r.Error);
            Assert.Contains("InstructionAccessFault", r.Error);
            Assert.Contains("pc=0x", r.Error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Console_input_reaches_the_guest_uart()
    {
        string path = TinyGuests.Write("echo", TinyGuests.EchoOneByte());
        try
        {
            CliResult r = CliHarness.Run("Z", "run", path);

            Assert.Equal(0, r.ExitCode);
            Assert.Equal("Z", r.Out);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_guest_idle_with_nothing_to_wake_it_is_reported_halted()
    {
        string path = TinyGuests.Write("sleeper", TinyGuests.WfiForever());
        try
        {
            CliResult r = CliHarness.Run(null, "run", path);

            Assert.Equal(126, r.ExitCode);
            Assert.Contains("idle", r.Error);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
