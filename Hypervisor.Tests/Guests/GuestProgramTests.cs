using Hypervisor.Machine;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Guests;

/// <summary>Every guest in guests/bin runs to its end with the exact transcript and exit code it has on QEMU.</summary>
public sealed class GuestProgramTests
{
    public static TheoryData<string> Guests()
    {
        var data = new TheoryData<string>();
        foreach (GuestCase g in GuestCase.All())
        {
            data.Add(g.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Guests))]
    public void Guest_runs_on_the_interpreter_with_its_expected_transcript_and_exit_code(string name)
    {
        GuestCase g = GuestCase.Load(name);
        var run = new GuestRun(g.Elf, EngineKind.Interpreter, g.Input);

        RunSummary summary = run.Run();

        Assert.Equal(RunEnd.PoweredOff, summary.End);
        Assert.Equal(g.ExpectedOutput, run.Output);
        Assert.Equal(g.ExpectedExit, summary.GuestCode);
    }

    [Fact]
    public void Every_guest_source_folder_has_a_built_elf()
    {
        string guests = Path.Combine(RepoPaths.Root, "guests");
        foreach (string mk in Directory.GetFiles(guests, "guest.mk", SearchOption.AllDirectories))
        {
            string name = Path.GetFileName(Path.GetDirectoryName(mk))!;
            Assert.True(File.Exists(RepoPaths.Guest(name)), $"guests/{name} has no guests/bin/{name}.elf; run make -C guests");
        }
    }
}
