using Hypervisor.Machine;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Machine;

/// <summary>A VM's state saved to bytes and restored continues the guest exactly where it was.</summary>
public sealed class SnapshotTests
{
    [Theory]
    [InlineData("minios", "interp")]
    [InlineData("minios", "bt")]
    [InlineData("priv", "hybrid-mode-split")]
    [InlineData("smc", "bt")]
    public void A_restored_snapshot_finishes_exactly_as_the_original(string guest, string engine)
    {
        string? input = guest == "minios" ? File.ReadAllText(Path.Combine(RepoPaths.GuestSource("minios"), "input.txt")) : null;
        var original = new GuestRun(RepoPaths.Guest(guest), engine, input);
        original.Vm.RunSlice(1_234_567);
        byte[] snapshot = original.Vm.SaveSnapshot();
        int printedBefore = original.Output.Length;
        original.Run();

        var restored = new GuestRun(RepoPaths.Guest(guest), engine);
        restored.Vm.RestoreSnapshot(snapshot);
        restored.Run();

        Assert.Equal(MachineSnapshot.Take(original.Vm), MachineSnapshot.Take(restored.Vm));
        Assert.Equal(original.Output[printedBefore..], restored.Output);
        Assert.Equal(0, restored.Vm.ExitCode);
    }

    [Fact]
    public void A_snapshot_moves_between_engines()
    {
        var interp = new GuestRun(RepoPaths.Guest("isa"), "interp");
        interp.Vm.RunSlice(5_000);
        byte[] snapshot = interp.Vm.SaveSnapshot();
        interp.Run();

        var bt = new GuestRun(RepoPaths.Guest("isa"), "bt");
        bt.Vm.RestoreSnapshot(snapshot);
        bt.Run();

        Assert.Equal(MachineSnapshot.Take(interp.Vm), MachineSnapshot.Take(bt.Vm));
    }

    [Fact]
    public void A_snapshot_of_another_image_is_refused()
    {
        var hello = new GuestRun(RepoPaths.Guest("hello"), "interp");
        byte[] snapshot = hello.Vm.SaveSnapshot();
        var isa = new GuestRun(RepoPaths.Guest("isa"), "interp");

        SnapshotException e = Assert.Throws<SnapshotException>(() => isa.Vm.RestoreSnapshot(snapshot));
        Assert.Contains("another guest image", e.Message);
    }

    [Fact]
    public void Garbage_is_not_a_snapshot()
    {
        var hello = new GuestRun(RepoPaths.Guest("hello"), "interp");

        Assert.Throws<SnapshotException>(() => hello.Vm.RestoreSnapshot([1, 2, 3]));
        Assert.Throws<SnapshotException>(() => hello.Vm.RestoreSnapshot(hello.Vm.SaveSnapshot()[..40]));
    }
}
