using Hypervisor.Machine;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Guests;

/// <summary>
/// Every guest in guests/bin runs to its end with the exact transcript and exit code it has on QEMU,
/// on every engine, and every engine leaves the same final state as the interpreter (the oracle).
/// </summary>
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

    public static TheoryData<string, string> GuestsOnEngines()
    {
        var data = new TheoryData<string, string>();
        foreach (GuestCase g in GuestCase.All())
        {
            foreach (string e in EngineMatrix.All)
            {
                data.Add(g.Name, e);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GuestsOnEngines))]
    public void Guest_runs_with_its_expected_transcript_and_exit_code(string name, string engine)
    {
        GuestCase g = GuestCase.Load(name);
        var run = new GuestRun(g.Elf, engine, g.Input);

        RunSummary summary = run.Run();

        Assert.Equal(g.ExpectedEnd, summary.End);
        Assert.Equal(g.ExpectedOutput, run.Output);
        Assert.Equal(g.ExpectedEnd == RunEnd.PoweredOff ? g.ExpectedExit : null, summary.GuestCode);
    }

    [Theory]
    [MemberData(nameof(Guests))]
    public void Every_engine_ends_in_the_interpreters_final_state(string name)
    {
        GuestCase g = GuestCase.Load(name);
        var oracle = new GuestRun(g.Elf, EngineKind.Interpreter, g.Input);
        oracle.Run();
        MachineSnapshot expected = MachineSnapshot.Take(oracle.Vm);

        foreach (string engine in EngineMatrix.All)
        {
            var run = new GuestRun(g.Elf, engine, g.Input);
            run.Run();
            MachineSnapshot actual = MachineSnapshot.Take(run.Vm);
            Assert.True(expected.Equals(actual), $"{name} on {engine}: {expected.Describe(actual)}");
            Assert.Equal(oracle.Output, run.Output);
        }
    }

    [Theory]
    [MemberData(nameof(GuestsOnEngines))]
    public void Slicing_a_run_differently_never_changes_its_result(string name, string engine)
    {
        GuestCase g = GuestCase.Load(name);
        var whole = new GuestRun(g.Elf, engine, g.Input);
        whole.Run();

        // Budgets of awkward sizes end slices in the middle of blocks and loops.
        var sliced = new GuestRun(g.Elf, engine, g.Input);
        ulong[] budgets = [1, 7, 100, 4093, 65_537];
        for (int k = 0; sliced.Vm.VmState is VmState.Running or VmState.Idle; k++)
        {
            SliceOutcome o = sliced.Vm.RunSlice(budgets[k % budgets.Length]);
            if (o.Reason == Cpu.StopReason.Idle && o.NextEventCycle == ulong.MaxValue)
            {
                break;
            }
        }

        Assert.Equal(MachineSnapshot.Take(whole.Vm), MachineSnapshot.Take(sliced.Vm));
        Assert.Equal(whole.Output, sliced.Output);
    }

    [Fact]
    public void Every_guest_source_folder_has_a_built_elf()
    {
        string guests = Path.Combine(RepoPaths.Root, "guests");
        foreach (string mk in Directory.GetFiles(guests, "guest.mk", SearchOption.AllDirectories))
        {
            string folder = Path.GetDirectoryName(mk)!;
            string name = Path.GetFileName(Path.GetDirectoryName(folder)) == "hostile" ? "hostile-" + Path.GetFileName(folder) : Path.GetFileName(folder);
            Assert.True(File.Exists(RepoPaths.Guest(name)), $"{Path.GetRelativePath(RepoPaths.Root, folder)} has no guests/bin/{name}.elf; run make -C guests");
            Assert.Equal(folder, RepoPaths.GuestSource(name));
        }
    }
}
