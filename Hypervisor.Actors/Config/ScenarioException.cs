namespace Hypervisor.Actors.Config;

/// <summary>A scenario that cannot run, as one line: the file, the key and what is wrong with it.</summary>
public sealed class ScenarioException : Exception
{
    public ScenarioException(string file, string key, string problem, Exception? inner = null)
        : base(key.Length == 0 ? $"{file}: {problem}" : $"{file}: {key}: {problem}", inner)
    {
        File = file;
        Key = key;
        Problem = problem;
    }

    public string File { get; }

    /// <summary>The HOCON path of the offending key (e.g. <c>hypervisor.vms[2].weight</c>), a line:column for syntax errors, or empty for the whole file.</summary>
    public string Key { get; }

    public string Problem { get; }
}
