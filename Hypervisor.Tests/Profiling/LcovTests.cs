using Hypervisor.Profiling;

namespace Hypervisor.Tests.Profiling;

/// <summary>
/// The lcov tracefile: parsed here by a small reader of the format (so the tests need no lcov
/// installed), it is well formed and holds profile-demo's known counts; a guest without debug
/// info gets function records only, and a note.
/// </summary>
public sealed class LcovTests
{
    [Theory]
    [InlineData("interp", ProfileMethod.Patch)]
    [InlineData("bt", ProfileMethod.Translate)]
    [InlineData("hybrid-mode-split", ProfileMethod.Patch)]
    public void Profile_demo_tracefile_parses_and_has_the_known_counts(string engine, ProfileMethod method)
    {
        ProfileReport report = new ProfiledGuest("profile-demo", engine, method).Report!;
        string text = LcovWriter.ToText([CoverageReport.Build(report, "profile-demo")]);

        List<LcovRecord> records = LcovRecord.Parse(text);

        Assert.All(records, r => Assert.Equal("profile_demo", r.TestName));
        LcovRecord demo = Assert.Single(records, r => r.SourceFile.EndsWith("/profile-demo.c", StringComparison.Ordinal));
        Assert.Equal(37, demo.FunctionHits["counted"]);
        Assert.Equal(1, demo.FunctionHits["main"]);
        Assert.Equal(1, demo.FunctionHits["check"]);
        Assert.Equal(ProfiledGuest.MarkedLine("profile-demo", "profile-demo.c", "@counted-body"), demo.FunctionLines["counted"]);
        Assert.Equal(0, demo.Lines[ProfiledGuest.MarkedLine("profile-demo", "profile-demo.c", "@never-taken")]);
        Assert.Equal(1, demo.Lines[ProfiledGuest.MarkedLine("profile-demo", "profile-demo.c", "@after-never-taken")]);
        Assert.Equal(37, demo.Lines[ProfiledGuest.MarkedLine("profile-demo", "profile-demo.c", "@counted-body")]);
        Assert.Equal(100, demo.Lines[ProfiledGuest.MarkedLine("profile-demo", "profile-demo.c", "@loop-body")]);
        // the never-taken branch: reached once, taken once, fell through never (or the other way round)
        int branchLine = ProfiledGuest.MarkedLine("profile-demo", "profile-demo.c", "@never-taken") - 1;
        Assert.Equal(["0", "1"], demo.Branches.Where(b => b.Line == branchLine).Select(b => b.Taken).Order());

        LcovRecord hv = Assert.Single(records, r => r.SourceFile.EndsWith("/hv.c", StringComparison.Ordinal));
        Assert.Equal(0, hv.FunctionHits["memcmp"]);
        Assert.Equal(1, hv.FunctionHits["hv_printf"]);
        Assert.Contains(hv.Branches, b => b.Taken == "-"); // branches in code that never ran
    }

    [Fact]
    public void A_guest_without_debug_info_gets_function_coverage_only_and_a_note()
    {
        ProfileReport report = new ProfiledGuest("selfsum", "interp", ProfileMethod.Translate).Report!;
        CoverageReport coverage = CoverageReport.Build(report, "selfsum");

        Assert.False(coverage.HasLines);
        Assert.Contains(coverage.Notes, n => n.Contains("no debug info", StringComparison.Ordinal));
        LcovRecord record = Assert.Single(LcovRecord.Parse(LcovWriter.ToText([coverage])));
        Assert.EndsWith("selfsum.elf", record.SourceFile);
        Assert.Empty(record.Lines);
        Assert.Equal(2, record.FunctionHits["fnv1a.constprop.0"]);
        Assert.Equal(1, record.FunctionHits["main"]);
        Assert.Equal(0, record.FunctionHits["memcmp"]);
        Assert.All(record.FunctionLines.Values, line => Assert.Equal(0, line));
        Assert.True(coverage.BlocksHit > 10 && coverage.BlocksHit < coverage.BlocksFound);
    }
}
