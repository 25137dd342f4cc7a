namespace Hypervisor.Tests.Support;

/// <summary>Finds files of the repository (guests, configs) from the test's output folder.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Hypervisor.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        return dir ?? throw new InvalidOperationException("cannot find the repository root (Hypervisor.sln) above " + AppContext.BaseDirectory);
    });

    public static string Root => RootLazy.Value;

    public static string Guest(string name) => Path.Combine(Root, "guests", "bin", name + ".elf");

    /// <summary>The source folder of a guest: guests/&lt;name&gt;, or guests/hostile/&lt;x&gt; for hostile-&lt;x&gt;.</summary>
    public static string GuestSource(string name) =>
        name.StartsWith("hostile-", StringComparison.Ordinal)
            ? Path.Combine(Root, "guests", "hostile", name["hostile-".Length..])
            : Path.Combine(Root, "guests", name);

    public static string Config(string name) => Path.Combine(Root, "configs", name);
}
