using System.Text;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Supervision;
using Hypervisor.Cpu;
using Hypervisor.Loading;
using Hypervisor.Machine;
using Hypervisor.Tests.Actors;
using Hypervisor.Tests.Guests;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Robustness;

/// <summary>
/// Fault injection (<c>fault-injection { kind = host-exception, at-instret = N }</c>): the VM's engine
/// throws a host exception at exactly instret N; supervision applies the VM's restart policy and
/// every other VM of the fleet finishes with its normal exit code and transcript.
/// </summary>
public sealed class FaultInjectionTests
{
    private const ulong At = 5_000;

    /// <summary>A scenario of 100 VMs: 49 hello, 30 isa, 20 that fail with code 3, and one faulty isa.</summary>
    private static Scenario Hundred(string restart)
    {
        string fail3 = ActorGuests.FailWith(3);
        string text = $$"""
            hypervisor {
              host-parallelism = 2
              scheduler.slice = 20000
              vm-defaults { memory = 4M }
              vms = [
                { name = hello, image = "{{Esc(RepoPaths.Guest("hello"))}}", count = 49 }
                { name = isa, image = "{{Esc(RepoPaths.Guest("isa"))}}", count = 30 }
                { name = fail, image = "{{Esc(fail3)}}", count = 20, memory = 64K }
                { name = faulty, image = "{{Esc(RepoPaths.Guest("isa"))}}", restart = {{restart}},
                  fault-injection { kind = host-exception, at-instret = {{At}} } }
              ]
            }
            """;
        return ScenarioLoader.Parse(text, "hundred.hocon", RepoPaths.Root);
    }

    private static string Esc(string path) => path.Replace("\\", "\\\\", StringComparison.Ordinal);

    private static void NinetyNineFinishedNormally(FleetCompleted done, string dir)
    {
        string hello = GuestCase.Load("hello").ExpectedOutput, isa = GuestCase.Load("isa").ExpectedOutput;
        Assert.Equal(100, done.Status.Vms.Count);
        foreach (VmStatus v in done.Status.Vms.Where(v => v.Name != "faulty"))
        {
            Assert.Equal(VmPhase.PoweredOff, v.Phase);
            Assert.Null(v.Error);
            if (v.Name.StartsWith("hello-", StringComparison.Ordinal))
            {
                Assert.Equal(0, v.ExitCode);
                Assert.Equal(hello, FleetRun.Transcript(dir, v.Name));
            }
            else if (v.Name.StartsWith("isa-", StringComparison.Ordinal))
            {
                Assert.Equal(0, v.ExitCode);
                Assert.Equal(isa, FleetRun.Transcript(dir, v.Name));
            }
            else
            {
                Assert.Equal(3, v.ExitCode);
            }
        }
    }

    [Fact]
    public async Task One_vm_of_a_hundred_with_restart_stop_is_stopped_at_the_fault_and_99_finish_normally()
    {
        Scenario s = Hundred("stop");
        Assert.Equal(new FaultInjection(FaultKind.HostException, At), s.Vms.Single(v => v.Name == "faulty").FaultInjection);

        (FleetCompleted done, string dir) = await RobustFleet.RunAsync(s);

        VmStatus faulty = RobustFleet.Of(done.Status, "faulty");
        Assert.Equal(VmPhase.Crashed, faulty.Phase);
        Assert.Equal(FleetExitCodes.HostException, faulty.ExitCode);
        Assert.Contains($"InjectedFaultException: fault injection: host exception at instret {At}", faulty.Error);
        Assert.Equal(At, faulty.Stats.Instret); // its state when the exception struck
        NinetyNineFinishedNormally(done, dir);
    }

    [Fact]
    public async Task One_vm_of_a_hundred_with_restart_restart_boots_again_and_all_100_finish_normally()
    {
        (FleetCompleted done, string dir) = await RobustFleet.RunAsync(Hundred("restart"));

        VmStatus faulty = RobustFleet.Of(done.Status, "faulty");
        Assert.Equal(VmPhase.PoweredOff, faulty.Phase);
        Assert.Equal(0, faulty.ExitCode);
        Assert.Contains($"host exception at instret {At}", faulty.Error);
        Assert.Contains("restarting from boot", faulty.Error);
        Assert.EndsWith(GuestCase.Load("isa").ExpectedOutput, FleetRun.Transcript(dir, "faulty"));
        Assert.Equal(RobustFleet.Of(done.Status, "isa-1").Stats.Instret, faulty.Stats.Instret); // a whole run after the restart
        NinetyNineFinishedNormally(done, dir);
    }

    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public void The_fault_strikes_at_exactly_its_instret_whatever_the_slices(EngineKind engine)
    {
        foreach (ulong slice in new ulong[] { 1, 7, 1000, 1_000_000 })
        {
            VirtualMachine? vm = null;
            var fault = new FaultInjection(FaultKind.HostException, 12_345);
            var output = new StringBuilder();
            vm = new VirtualMachine("faulty", ElfImage.Load(RepoPaths.Guest("isa")), new MachineConfig { MemorySize = 4u << 20, Engine = engine },
                b => output.Append((char)b), fault.Decorator(() => vm!.State));

            Action runSlices = () =>
            {
                while (true)
                {
                    Assert.Equal(StopReason.BudgetExhausted, vm.RunSlice(slice).Reason);
                }
            };
            InjectedFaultException ex = Assert.Throws<InjectedFaultException>(runSlices);

            Assert.Equal(12_345UL, ex.Instret);
            Assert.Equal(12_345UL, vm.State.Instret);
            // The engine still works after the fault: nothing else is injected.
            Assert.Equal(RunEnd.PoweredOff, new GuestRunner(vm).Run().End);
            Assert.EndsWith("isa: all 778 checks passed\n", output.ToString());
        }
    }

    [Fact]
    public void A_fault_beyond_the_end_of_the_guest_never_strikes()
    {
        VirtualMachine? vm = null;
        var fault = new FaultInjection(FaultKind.HostException, 1_000_000_000);
        vm = new VirtualMachine("hello", ElfImage.Load(RepoPaths.Guest("hello")), new MachineConfig { MemorySize = 4u << 20 },
            null, fault.Decorator(() => vm!.State));

        Assert.Equal(RunEnd.PoweredOff, new GuestRunner(vm).Run().End);
    }
}
