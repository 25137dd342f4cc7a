using System.Text;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Actors.Hosting;
using Hypervisor.Actors.Supervision;
using Hypervisor.Machine;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Actors;

/// <summary>Collects the prefixed console lines a fleet shows on the terminal.</summary>
public sealed class CollectingSink : IConsoleSink
{
    private readonly List<(string Vm, string Text)> _lines = [];

    public void Line(string vm, string text)
    {
        lock (_lines)
        {
            _lines.Add((vm, text));
        }
    }

    public IReadOnlyList<string> LinesOf(string vm)
    {
        lock (_lines)
        {
            return _lines.Where(l => l.Vm == vm).Select(l => l.Text).ToArray();
        }
    }
}

/// <summary>Runs whole scenarios in-process for tests.</summary>
public static class FleetRun
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    public static VmSpec Vm(string name, string image, int weight = 1, uint memory = 4u << 20, Action<VmSpec>? _ = null) => new()
    {
        Name = name,
        ImagePath = image,
        Weight = weight,
        Machine = new MachineConfig { MemorySize = memory },
    };

    public static HypervisorSettings Settings(int parallelism = 2, ulong slice = 100_000) => new()
    {
        HostParallelism = parallelism,
        SliceInstructions = slice,
    };

    private static readonly string TempRoot = CreateTempRoot();

    /// <summary>A fresh folder under one per-process root that is removed when the test process exits.</summary>
    public static string TempDir()
    {
        string dir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string CreateTempRoot()
    {
        string root = Path.Combine(Path.GetTempPath(), $"hv-fleet-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return root;
    }

    /// <summary>Runs the scenario to its end; returns the final status and the output folder.</summary>
    public static async Task<(FleetCompleted Result, string Dir)> RunAsync(Scenario scenario, SupervisorOptions? options = null)
    {
        string dir = options?.OutputDir ?? TempDir();
        options = (options ?? new SupervisorOptions()) with { OutputDir = dir };
        await using FleetHost host = FleetHost.Start(scenario, options);
        FleetCompleted done = await host.Completion.WaitAsync(Generous);
        return (done, dir);
    }

    public static string Transcript(string dir, string vm)
    {
        string path = ConsoleActor.TranscriptPath(dir, vm);
        return File.Exists(path) ? Encoding.UTF8.GetString(File.ReadAllBytes(path)) : "";
    }

    public static string Guest(string name) => RepoPaths.Guest(name);
}
