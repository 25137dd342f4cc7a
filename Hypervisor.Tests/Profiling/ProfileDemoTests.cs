using Hypervisor.Machine;
using Hypervisor.Profiling;

namespace Hypervisor.Tests.Profiling;

/// <summary>
/// guests/profile-demo has a known structure: counted() is called 37 times, the loop in triangle()
/// runs 100 times, and check() has a branch that is never taken on a line of its own. Every engine
/// and both methods must count exactly that.
/// </summary>
public sealed class ProfileDemoTests
{
    private const string Guest = "profile-demo";
    private const string Source = "profile-demo.c";
    private const int Calls = 37;
    private const int Trips = 100;

    public static TheoryData<string, ProfileMethod> EnginesAndMethods() => ProfiledGuest.EnginesAndMethods();

    [Theory]
    [MemberData(nameof(EnginesAndMethods))]
    public void The_guest_runs_as_without_profiling(string engine, ProfileMethod method)
    {
        var p = new ProfiledGuest(Guest, engine, method);

        Assert.Equal(RunEnd.PoweredOff, p.Summary.End);
        Assert.Equal(0, p.Summary.GuestCode);
        Assert.Equal(File.ReadAllText(Path.Combine(Support.RepoPaths.GuestSource(Guest), "expected.out")), p.Run.Output);
    }

    [Theory]
    [MemberData(nameof(EnginesAndMethods))]
    public void Counted_is_called_exactly_37_times(string engine, ProfileMethod method)
    {
        ProfileReport r = new ProfiledGuest(Guest, engine, method).Report!;

        FunctionProfile counted = Assert.IsType<FunctionProfile>(r.Function("counted"));
        Assert.Equal(Calls, counted.Calls);
        BlockProfile entry = Assert.IsType<BlockProfile>(r.BlockAt(counted.Address));
        Assert.Equal(Calls, entry.Entries);
        Assert.Equal(Calls * entry.Length, counted.Instructions);
        Assert.Equal("counted+0x0", entry.Location);
        Assert.Equal(new SourceLine("profile-demo/profile-demo.c", ProfiledGuest.MarkedLine(Guest, Source, "@counted-body")), entry.Source);
        Assert.Equal(1, r.Function("main")!.Calls);
    }

    [Theory]
    [MemberData(nameof(EnginesAndMethods))]
    public void The_loop_runs_exactly_100_times(string engine, ProfileMethod method)
    {
        ProfileReport r = new ProfiledGuest(Guest, engine, method).Report!;
        int bodyLine = ProfiledGuest.MarkedLine(Guest, Source, "@loop-body");
        uint body = r.Lines!.Ranges.First(x => x.Source.Line == bodyLine && x.Source.File.EndsWith(Source, StringComparison.Ordinal)).Start;

        Assert.Equal(Trips, r.Executions(body));
        // The back edge: the one branch that jumps to the loop body was taken TRIPS - 1 times
        // (the first trip falls in from the loop set-up).
        (uint from, uint to) backEdge = Assert.Single(r.Profile.Edges.Keys, e => e.To == body && e.From > body);
        Assert.Equal(Trips - 1, r.EdgeCount(backEdge.from, backEdge.to));
        Assert.Equal(Trips - 1, r.BlockAt(body)!.Entries);
    }

    [Theory]
    [MemberData(nameof(EnginesAndMethods))]
    public void The_never_taken_branch_leaves_its_line_uncovered(string engine, ProfileMethod method)
    {
        ProfileReport r = new ProfiledGuest(Guest, engine, method).Report!;
        FileCoverage file = CoverageReport.Build(r, engine).File(Source)!;

        int never = ProfiledGuest.MarkedLine(Guest, Source, "@never-taken");
        int after = ProfiledGuest.MarkedLine(Guest, Source, "@after-never-taken");
        Assert.Equal(0, file.Lines[never]);
        Assert.Equal(1, file.Lines[after]);
        Assert.Equal(Calls, file.Lines[ProfiledGuest.MarkedLine(Guest, Source, "@counted-body")]);
        Assert.Equal(Trips, file.Lines[ProfiledGuest.MarkedLine(Guest, Source, "@loop-body")]);
        // The branch on the line before: reached once, one outcome taken once, the other never.
        BranchCoverage[] branch = [.. file.Branches.Where(b => b.Line == never - 1)];
        Assert.Equal(2, branch.Length);
        Assert.Equal([0L, 1L], branch.Select(b => b.Count!.Value).Order());
        Assert.Equal(1, r.Function("check")!.Calls);
    }

    [Theory]
    [MemberData(nameof(EnginesAndMethods))]
    public void Every_instruction_is_counted_once(string engine, ProfileMethod method)
    {
        var p = new ProfiledGuest(Guest, engine, method);

        // No traps or interrupts in this guest: counting by flow gives exactly what retired.
        Assert.Equal((long)p.Summary.Instret, p.Report!.InstructionCounts.Values.Sum());
        Assert.InRange(p.Report.TotalInstructions - (long)p.Summary.Instret, 0, 8);
    }
}
