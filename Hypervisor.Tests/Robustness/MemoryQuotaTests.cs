using System.Text.RegularExpressions;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Supervision;
using Hypervisor.Machine;
using Hypervisor.Memory;
using Hypervisor.Tests.Actors;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Robustness;

/// <summary>
/// The per-VM memory quota (<c>memory-quota</c>, <c>hv run --memory-quota</c>): a guest that touches
/// all of its RAM gets a store access fault for every page beyond the quota -- which it can count
/// and survive (hostile-memhog does) -- and its resident memory never exceeds the quota.
/// </summary>
public sealed partial class MemoryQuotaTests
{
    private const uint Memory = 16u << 20;
    private const long Quota = 1 << 20;

    [GeneratedRegex(@"hostile-memhog: (\d+) pages stored, (\d+) refused by store access faults; read back ok")]
    private static partial Regex Counts();

    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public void Stores_beyond_the_quota_are_store_access_faults_the_guest_counts_and_resident_memory_stays_at_the_quota(EngineKind engine)
    {
        var run = new GuestRun(RepoPaths.Guest("hostile-memhog"), engine, config: new MachineConfig { MemorySize = Memory, MemoryQuota = Quota });

        RunSummary s = run.Run();

        Assert.Equal(RunEnd.PoweredOff, s.End);
        Assert.Equal(0, s.GuestCode);
        Match m = Counts().Match(run.Output);
        Assert.True(m.Success, run.Output);
        long stored = long.Parse(m.Groups[1].Value), refused = long.Parse(m.Groups[2].Value);
        Assert.Equal(Quota, run.Vm.Ram.ResidentBytes);                 // every granted page in use, not one more
        Assert.Equal(refused, run.Vm.Ram.QuotaRefusals);               // every refusal reached the guest as a fault
        Assert.Equal(refused, run.Vm.Hart.ExceptionsRaised[(int)Cpu.ExceptionCause.StoreAccessFault]);
        // The pages it walked: from the end of its image to the end of RAM, less its 64 KiB stack.
        long image = run.Vm.Image.Segments.Max(seg => (long)seg.PhysicalAddress + seg.MemorySize) - GuestRam.DefaultBase;
        long walked = (Memory - ((image + 0xFFF) & ~0xFFFL) - 0x10000) / 4096;
        Assert.Equal(walked, stored + refused);
    }

    [Fact]
    public void Without_a_quota_the_same_guest_gets_every_page()
    {
        var run = new GuestRun(RepoPaths.Guest("hostile-memhog"), EngineKind.Interpreter, config: new MachineConfig { MemorySize = Memory });

        run.Run();

        Assert.Contains("every page of RAM above the image stored and read back; 0 refused", run.Output);
        Assert.Equal(0, run.Vm.Ram.QuotaRefusals);
        Assert.True(run.Vm.Ram.ResidentBytes > Memory - (1 << 20));
    }

    [Fact]
    public async Task A_fleet_of_memory_hogs_stays_within_the_sum_of_its_quotas()
    {
        const int count = 24;
        const long quota = 512 << 10;
        VmSpec[] vms = Enumerable.Range(1, count).Select(i =>
            RobustFleet.Guest("hostile-memhog", i % 3 == 0 ? EngineKind.BinaryTranslator : EngineKind.Interpreter, $"hog-{i}", memory: 64u << 20) with
            {
                Machine = new MachineConfig { MemorySize = 64u << 20, MemoryQuota = quota, Engine = i % 3 == 0 ? EngineKind.BinaryTranslator : EngineKind.Interpreter },
            }).ToArray();

        (FleetCompleted done, _) = await RobustFleet.RunAsync(Scenario.Of(FleetRun.Settings(slice: 200_000), vms));

        Assert.All(done.Status.Vms, v =>
        {
            Assert.Equal(VmPhase.PoweredOff, v.Phase);
            Assert.Equal(0, v.ExitCode);
            Assert.Equal(quota, v.Stats.ResidentBytes);
            Assert.True(v.Stats.QuotaRefusals > 15_000, $"{v.Name}: {v.Stats.QuotaRefusals} refusals");
        });
        // 24 VMs of 64 MiB that each touched every page: 12 MiB resident in all, not 1.5 GiB.
        Assert.Equal(count * quota, done.Status.Vms.Sum(v => v.Stats.ResidentBytes));
    }

    [Fact]
    public void The_quota_key_is_validated()
    {
        var ex = Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse(
            """hypervisor.vms = [ { name = a, image = "hello.elf", memory-quota = 1K } ]""", "q.hocon", Path.Combine(RepoPaths.Root, "guests", "bin")));
        Assert.Equal("q.hocon: hypervisor.vms[0].memory-quota: memory quota must be at least 64 KiB (got 1024 bytes)", ex.Message);
    }
}
