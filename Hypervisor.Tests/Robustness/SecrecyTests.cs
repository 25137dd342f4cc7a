using Hypervisor.Actors.Config;
using Hypervisor.Actors.Supervision;
using Hypervisor.Machine;
using Hypervisor.Tests.Actors;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Robustness;

/// <summary>
/// Cross-VM secrecy: hostile-secret holds a secret in every page of its RAM, in device registers and
/// in CPU state; hostile-hunt, beside it in the same fleet, reads everything it can address (in M
/// mode and through its own Sv32 mappings) and must find no byte sequence of it -- nor anything but
/// zeros outside its own image. The detector itself is checked by planting the secret in the hunter.
/// </summary>
public sealed class SecrecyTests
{
    /// <summary>The secret of guests/hostile/secret/secret.c (hostile-hunt holds it XOR 0x5a).</summary>
    public static readonly byte[] Secret =
    [
        0x05, 0x08, 0xeb, 0x9e, 0x81, 0xbf, 0xaa, 0x60, 0x83, 0xaf, 0xca, 0x64, 0x6e, 0x60, 0x79, 0xac,
        0xc5, 0xb3, 0x5e, 0x6e, 0x40, 0xe9, 0xc7, 0xa2, 0xf0, 0xac, 0xce, 0x41, 0xc9, 0x56, 0x58, 0x26,
    ];

    private const ulong OneSecond = 10_000_000; // mtime ticks

    [Fact]
    public async Task Hunters_on_every_engine_never_see_the_secrets_of_holders_on_every_engine()
    {
        EngineKind[] engines = [EngineKind.Interpreter, EngineKind.BinaryTranslator, EngineKind.Hybrid];
        var vms = new List<VmSpec>();
        foreach (EngineKind e in engines)
        {
            vms.Add(RobustFleet.Guest("hostile-secret", e, $"holder-{EngineFactory.Names(e)}", memory: 8u << 20));
        }
        foreach (EngineKind e in engines)
        {
            vms.Add(RobustFleet.Guest("hostile-hunt", e, $"hunter-{EngineFactory.Names(e)}", memory: 8u << 20));
        }

        (FleetCompleted done, string dir) = await RobustFleet.RunAsync(Scenario.Of(FleetRun.Settings(slice: 50_000), [.. vms]));

        foreach (EngineKind e in engines)
        {
            string name = EngineFactory.Names(e);
            RobustFleet.EndedAsAlone(done, dir, $"holder-{name}", "hostile-secret");
            RobustFleet.EndedAsAlone(done, dir, $"hunter-{name}", "hostile-hunt");
            Assert.Contains("secret found: no", FleetRun.Transcript(dir, $"hunter-{name}"));
            // The holders kept their secret (a second of guest time) for the whole of every hunter's scan.
            Assert.True(RobustFleet.Of(done.Status, $"holder-{name}").Stats.VirtualTime >= OneSecond);
            Assert.True(RobustFleet.Of(done.Status, $"hunter-{name}").Stats.VirtualTime < OneSecond / 2);
        }
    }

    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public void The_hunter_finds_a_secret_planted_in_its_own_ram(EngineKind engine)
    {
        var run = new GuestRun(RepoPaths.Guest("hostile-hunt"), engine, config: new MachineConfig { MemorySize = 8u << 20 });
        Assert.True(run.Vm.Ram.WriteBytes(0x0060_0123, Secret.AsSpan(5, 9))); // nine bytes, misaligned, high in RAM

        RunSummary s = run.Run();

        Assert.Equal(RunEnd.PoweredOff, s.End);
        Assert.Equal(5, s.GuestCode); // the first check that failed: RAM outside its image is not all zeros
        Assert.Contains("SECRET FOUND", run.Output);
        Assert.Contains("non-zero words, the first at 80600120", run.Output);
    }

    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public void The_hunter_finds_a_secret_left_in_a_device_register_or_in_mtimecmp(EngineKind engine)
    {
        var scratch = new GuestRun(RepoPaths.Guest("hostile-hunt"), engine, config: new MachineConfig { MemorySize = 8u << 20 });
        Assert.True(scratch.Vm.Bus.Write(0x1000_0007, 1, Secret[0])); // UART scratch register
        Assert.Equal(2, scratch.Run().GuestCode);
        Assert.Contains("NOT AT RESET", scratch.Output);

        var timer = new GuestRun(RepoPaths.Guest("hostile-hunt"), engine, config: new MachineConfig { MemorySize = 8u << 20 });
        Assert.True(timer.Vm.Bus.Write(0x0200_4004, 4, BitConverter.ToUInt32(Secret, 24)));
        Assert.True(timer.Vm.Bus.Write(0x0200_4000, 4, BitConverter.ToUInt32(Secret, 20)));
        Assert.Equal(3, timer.Run().GuestCode);
        Assert.Contains("mtimecmp HOLDS THE SECRET", timer.Output);
    }

    [Fact]
    public void The_hunter_knows_the_secret_only_masked_and_the_holder_holds_it()
    {
        byte[] hunter = File.ReadAllBytes(RepoPaths.Guest("hostile-hunt"));
        byte[] holder = File.ReadAllBytes(RepoPaths.Guest("hostile-secret"));
        for (int i = 0; i + 4 <= Secret.Length; i++)
        {
            Assert.Equal(-1, hunter.AsSpan().IndexOf(Secret.AsSpan(i, 4)));
        }
        Assert.NotEqual(-1, holder.AsSpan().IndexOf(Secret));
        Assert.NotEqual(-1, hunter.AsSpan().IndexOf(Secret.Select(b => (byte)(b ^ 0x5a)).ToArray()));
    }
}
