using Hypervisor.Machine;
using Hypervisor.Profiling;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Profiling;

/// <summary>A guest run to its end with profiling on, and its report.</summary>
public sealed class ProfiledGuest
{
    /// <summary>The engine configurations the profiling tests cover: each engine, and the hybrid's direct-execution kernel.</summary>
    public static readonly string[] Engines = ["interp", "bt", "hybrid-mode-split", "hybrid-trap-and-emulate"];

    public static readonly ProfileMethod[] Methods = [ProfileMethod.Patch, ProfileMethod.Translate];

    public ProfiledGuest(string guest, string engine, ProfileMethod? method, string? input = null)
    {
        Run = new GuestRun(RepoPaths.Guest(guest), engine, input);
        if (method is ProfileMethod m)
        {
            Run.Vm.StartProfiling(m);
        }
        Summary = Run.Run();
        Report = method is null ? null : ProfileReport.Build(Run.Vm.Profile!, Run.Vm.Image, Run.Vm.Bus, Run.Vm.State.Pc);
    }

    public GuestRun Run { get; }

    public RunSummary Summary { get; }

    public ProfileReport? Report { get; }

    public static TheoryData<string, ProfileMethod> EnginesAndMethods()
    {
        var data = new TheoryData<string, ProfileMethod>();
        foreach (string e in Engines)
        {
            foreach (ProfileMethod m in Methods)
            {
                data.Add(e, m);
            }
        }
        return data;
    }

    /// <summary>The line of guests/&lt;guest&gt;/&lt;file&gt; that holds <paramref name="marker"/> (the guest marks its lines with "@name" comments).</summary>
    public static int MarkedLine(string guest, string file, string marker)
    {
        string[] lines = File.ReadAllLines(Path.Combine(RepoPaths.GuestSource(guest), file));
        int found = Array.FindIndex(lines, l => l.Contains("/* " + marker + " */", StringComparison.Ordinal));
        Assert.True(found >= 0, $"{file} has no line marked {marker}");
        return found + 1;
    }
}
