using Hypervisor.Machine;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Guests;

/// <summary>The guests in guests/bin that the tests run, with their expected transcript, input, exit code and end.</summary>
/// <remarks>
/// <see cref="ExpectedEnd"/> comes from <c>expected.end</c> when a guest has one (<c>halted-idle</c>: it sleeps
/// forever, e.g. hostile-sleep); otherwise every guest powers off.
/// </remarks>
public sealed record GuestCase(string Name, string ExpectedOutput, string? Input, int ExpectedExit, RunEnd ExpectedEnd = RunEnd.PoweredOff)
{
    public string Elf => RepoPaths.Guest(Name);

    public override string ToString() => Name;

    /// <summary>Guests too long for the unit-test run (benchmarks).</summary>
    public static readonly HashSet<string> Excluded = ["bench-compute"];

    public static IEnumerable<GuestCase> All()
    {
        foreach (string elf in Directory.GetFiles(Path.Combine(RepoPaths.Root, "guests", "bin"), "*.elf").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(elf);
            if (Excluded.Contains(name))
            {
                continue;
            }
            yield return Load(name);
        }
    }

    public static GuestCase Load(string name)
    {
        string dir = RepoPaths.GuestSource(name);
        string expected = Path.Combine(dir, "expected.out");
        if (!File.Exists(expected))
        {
            throw new FileNotFoundException($"guest {name} has no expected.out; every guest in guests/bin needs one", expected);
        }
        string input = Path.Combine(dir, "input.txt");
        string exit = Path.Combine(dir, "expected.exit");
        string end = Path.Combine(dir, "expected.end");
        return new GuestCase(name, File.ReadAllText(expected),
            File.Exists(input) ? File.ReadAllText(input) : null,
            File.Exists(exit) ? int.Parse(File.ReadAllText(exit).Trim(), System.Globalization.CultureInfo.InvariantCulture) : 0,
            File.Exists(end) ? ParseEnd(File.ReadAllText(end).Trim(), end) : RunEnd.PoweredOff);
    }

    private static RunEnd ParseEnd(string text, string path) => text switch
    {
        "powered-off" => RunEnd.PoweredOff,
        "halted-idle" => RunEnd.HaltedIdle,
        _ => throw new FormatException($"{path}: '{text}' is not an end this catalogue knows (powered-off, halted-idle)"),
    };
}
