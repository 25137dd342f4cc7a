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

    public static string GuestSource(string name) => Path.Combine(Root, "guests", name);

    public static string Config(string name) => Path.Combine(Root, "configs", name);
}
