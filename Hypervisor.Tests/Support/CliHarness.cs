using System.Text;
using Hypervisor.Cli;

namespace Hypervisor.Tests.Support;

/// <summary>Runs the <c>hv</c> command line in-process with captured streams.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public string LastOutLine => Out.TrimEnd('\n').Split('\n')[^1];
}

public static class CliHarness
{
    public static CliResult Run(string? input, params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        Stream? stdin = input is null ? new MemoryStream() : new MemoryStream(Encoding.UTF8.GetBytes(input));
        int code = HvApp.Run(args, new CliContext(stdout, stderr, stdin));
        return new CliResult(code, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }
}
