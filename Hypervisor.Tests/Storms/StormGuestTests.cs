using Hypervisor.Devices;
using Hypervisor.Machine;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Storms;

/// <summary>
/// guests/storm run alone (the device's default burst pattern and a guest-requested stream) on
/// every engine configuration: its transcript, zero lost events, the counters' identities, and
/// the same numbers on every engine, every slicing and every run (deterministic virtual time).
/// </summary>
public sealed class StormGuestTests
{
    private static string Elf => RepoPaths.Guest("storm");

    private static string Expected => File.ReadAllText(Path.Combine(RepoPaths.GuestSource("storm"), "expected.out"));

    public static TheoryData<string> Engines() => [.. EngineMatrix.All];

    /// <summary>The figures two runs must agree on: counts, virtual latency, instret and cycle.</summary>
    private static string Figures(VirtualMachine vm)
    {
        InterruptStats s = vm.InterruptAccounting.Snapshot();
        string sources = string.Join(";", s.Sources);
        return $"{s.Raised}/{s.Delivered}/{s.Coalesced}/{s.Deferred}/{s.Lost}/{s.Claims} v={s.VirtualLatencyNs.Count},{s.VirtualLatencyNs.P50},{s.VirtualLatencyNs.P99},{s.VirtualLatencyNs.Max} " +
               $"instret={vm.State.Instret} cycle={vm.State.Cycle} [{sources}]";
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Run_alone_it_handles_every_event_of_the_default_pattern_with_zero_lost(string engine)
    {
        var run = new GuestRun(Elf, engine);

        RunSummary summary = run.Run();

        Assert.Equal(RunEnd.PoweredOff, summary.End);
        Assert.Equal(0, summary.GuestCode);
        Assert.Equal(Expected, run.Output);
        InterruptAccounting a = run.Vm.InterruptAccounting;
        Assert.Equal(0, a.Lost);
        Assert.Equal(16 * 8 + 400, a.Raised);
        Assert.Equal(a.Raised, a.Delivered + a.Coalesced);
        Assert.Equal(0, a.Pending);
        foreach (SourceAccount s in a.SourceAccounts)
        {
            Assert.Equal(s.Raised, s.Delivered + s.Coalesced + s.Awaiting);
            Assert.Equal(s.Raised, s.Acknowledged + s.Pending);
            Assert.Equal(0, s.Lost);
        }
        Assert.Equal(a.Delivered, a.VirtualLatency.Count);
        Assert.True(a.VirtualLatency.Max > 0);
    }

    [Fact]
    public void The_same_numbers_twice_and_on_every_engine()
    {
        var first = new GuestRun(Elf, "interp");
        first.Run();
        var second = new GuestRun(Elf, "interp");
        second.Run();
        Assert.Equal(Figures(first.Vm), Figures(second.Vm));

        foreach (string engine in EngineMatrix.All)
        {
            var other = new GuestRun(Elf, engine);
            other.Run();
            Assert.Equal(Figures(first.Vm), Figures(other.Vm));
            Assert.Equal(MachineSnapshot.Take(first.Vm), MachineSnapshot.Take(other.Vm));
        }
    }

    [Theory]
    [InlineData("interp")]
    [InlineData("bt")]
    [InlineData("hybrid-mode-split")]
    public void Slicing_the_run_differently_changes_nothing(string engine)
    {
        var whole = new GuestRun(Elf, engine);
        whole.Run();

        var sliced = new GuestRun(Elf, engine);
        ulong[] budgets = [1, 7, 100, 4093, 65_537];
        for (int k = 0; sliced.Vm.VmState is VmState.Running or VmState.Idle && k < 1_000_000; k++)
        {
            sliced.Vm.RunSlice(budgets[k % budgets.Length]);
        }

        Assert.Equal(Figures(whole.Vm), Figures(sliced.Vm));
        Assert.Equal(MachineSnapshot.Take(whole.Vm), MachineSnapshot.Take(sliced.Vm));
        Assert.Equal(whole.Output, sliced.Output);
    }
}
