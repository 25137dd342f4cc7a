using Hypervisor.Actors.Config;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Supervision;
using Hypervisor.Machine;
using Hypervisor.Tests.Actors;
using Hypervisor.Tests.Guests;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Robustness;

/// <summary>Fleets of hostile and normal guests for the robustness tests (issue 10).</summary>
public static class RobustFleet
{
    /// <summary>The three engines every robustness test runs on.</summary>
    public static TheoryData<EngineKind> Engines() => new(EngineKind.Interpreter, EngineKind.BinaryTranslator, EngineKind.Hybrid);

    /// <summary>A VM of a guest in guests/bin, with its input.txt as console input at time 0.</summary>
    public static VmSpec Guest(string name, EngineKind engine, string? vmName = null, uint memory = 16u << 20, int weight = 1)
    {
        GuestCase g = GuestCase.Load(name);
        return new VmSpec
        {
            Name = vmName ?? name,
            ImagePath = g.Elf,
            Weight = weight,
            Machine = new MachineConfig { MemorySize = memory, Engine = engine },
            Console = g.Input is null ? ConsoleSpec.None : new ConsoleSpec(System.Text.Encoding.UTF8.GetBytes(g.Input), 0),
        };
    }

    public static VmStatus Of(FleetStatus s, string vm) => s.Vms.Single(v => v.Name == vm);

    /// <summary>Polls the fleet until <paramref name="condition"/> holds.</summary>
    public static async Task<FleetStatus> AwaitStatus(FleetHost host, Func<FleetStatus, bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            FleetStatus s = await host.StatusAsync();
            if (condition(s))
            {
                return s;
            }
            Assert.True(DateTime.UtcNow < deadline, "the fleet never reached the awaited state");
            await Task.Delay(10);
        }
    }

    /// <summary>Runs a scenario to its end with a long deadline (some fleets hold a hundred VMs).</summary>
    public static async Task<(FleetCompleted Result, string Dir)> RunAsync(Scenario scenario, SupervisorOptions? options = null)
    {
        string dir = FleetRun.TempDir();
        await using FleetHost host = FleetHost.Start(scenario, (options ?? new SupervisorOptions()) with { OutputDir = dir });
        FleetCompleted done = await host.Completion.WaitAsync(TimeSpan.FromMinutes(3));
        return (done, dir);
    }

    /// <summary>Asserts a VM ended as its guest does alone: the end, exit code and transcript of guests/&lt;name&gt;.</summary>
    public static void EndedAsAlone(FleetCompleted done, string dir, string vm, string guest)
    {
        GuestCase g = GuestCase.Load(guest);
        VmStatus v = Of(done.Status, vm);
        Assert.True(v.Phase == (g.ExpectedEnd == RunEnd.HaltedIdle ? VmPhase.HaltedIdle : VmPhase.PoweredOff),
            $"{vm}: {v.Phase} ({v.Error})");
        Assert.Equal(g.ExpectedEnd == RunEnd.HaltedIdle ? 126 : g.ExpectedExit, v.ExitCode);
        Assert.Equal(g.ExpectedOutput, FleetRun.Transcript(dir, vm));
    }
}
