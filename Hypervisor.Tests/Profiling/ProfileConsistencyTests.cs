using Hypervisor.Profiling;
using Hypervisor.Tests.Guests;

namespace Hypervisor.Tests.Profiling;

/// <summary>
/// The counts are exact and the same whatever ran the code: every engine and both methods record
/// the same edges, so the same blocks with the same entries, for the same run. Guests with U-mode
/// tasks (minios: the hybrid's direct-execution tier), self-modifying code (smc: patched pages are
/// stored to) and traps (priv, isa) included.
/// </summary>
public sealed class ProfileConsistencyTests
{
    public static TheoryData<string> Guests() => new(["profile-demo", "selfsum", "isa", "priv", "smc", "minios"]);

    [Theory]
    [MemberData(nameof(Guests))]
    public void Every_engine_and_method_counts_the_same_blocks(string guest)
    {
        GuestCase g = GuestCase.Load(guest);
        var reference = new ProfiledGuest(guest, "interp", ProfileMethod.Translate, g.Input);
        string[] expected = Blocks(reference.Report!);
        Assert.NotEmpty(expected);

        foreach (string engine in ProfiledGuest.Engines)
        {
            foreach (ProfileMethod method in ProfiledGuest.Methods)
            {
                var p = new ProfiledGuest(guest, engine, method, g.Input);
                Assert.True(g.ExpectedOutput == p.Run.Output, $"{guest} on {engine}/{method}: the transcript differs from expected.out");
                Assert.Equal(reference.Summary.Instret, p.Summary.Instret);
                string[] actual = Blocks(p.Report!);
                Assert.True(expected.SequenceEqual(actual),
                    $"{guest} on {engine}/{method}: blocks differ from interp/translate; first difference: " +
                    FirstDifference(expected, actual));
                Assert.Equal(reference.Report!.Profile.TotalTransfers, p.Report!.Profile.TotalTransfers);
            }
        }
    }

    private static string[] Blocks(ProfileReport r) => [.. r.Blocks.Select(b => $"0x{b.Address:x8} entries {b.Entries} length {b.Length}")];

    private static string FirstDifference(string[] expected, string[] actual)
    {
        for (int i = 0; i < Math.Max(expected.Length, actual.Length); i++)
        {
            string e = i < expected.Length ? expected[i] : "(none)";
            string a = i < actual.Length ? actual[i] : "(none)";
            if (e != a)
            {
                return $"expected {e}, got {a}";
            }
        }
        return "none";
    }
}
