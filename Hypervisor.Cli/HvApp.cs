using System.CommandLine;
using Hypervisor.Cli.Commands;

namespace Hypervisor.Cli;

/// <summary>The <c>hv</c> command line: parses arguments and dispatches to a command.</summary>
public static partial class HvApp
{
    public static int Run(string[] args, CliContext context)
    {
        var root = new RootCommand("hv — runs RISC-V (RV32IMA) guest VMs on a simulated hypervisor")
        {
            RunCommand.Build(context),
            BenchCommand.Build(context),
            FuzzCommand.Build(context),
            ProfileCommand.Build(context),
            CoverageCommand.Build(context),
            ReportCommand.Build(context),
        };
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One clear line, no usage dump: the user can ask for --help. A word that is not a
            // command says so (rather than "required command was not provided").
            var error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
            context.Error.WriteLine($"hv: {Plain(error.Message)} (see 'hv --help')");
            return Machine.ExitCodes.Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = context.Error, Error = context.Error, EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            context.Error.WriteLine($"hv: {e.Message}");
            return Machine.ExitCodes.Usage;
        }
    }
}

public static partial class HvApp
{
    /// <summary>"Cannot parse argument '-5' for option '--x' as expected type 'System.Nullable`1[System.UInt64]'." in words.</summary>
    private static string Plain(string message)
    {
        System.Text.RegularExpressions.Match m = CannotParse().Match(message);
        if (!m.Success)
        {
            return message;
        }
        string type = m.Groups[3].Value;
        string expected = type.Contains("Int", StringComparison.Ordinal)
            ? (type.Contains("UInt", StringComparison.Ordinal) ? "a whole number of at least 0" : "a whole number")
            : type.Contains("Double", StringComparison.Ordinal) ? "a number" : "a value of another kind";
        return $"{m.Groups[2].Value}: '{m.Groups[1].Value}' is not {expected}";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^Cannot parse argument '(.*)' for option '(.*)' as expected type '(.*)'\.$")]
    private static partial System.Text.RegularExpressions.Regex CannotParse();
}

/// <summary>A user error a command reports as one line (bad file, bad option value).</summary>
public sealed class CliException(string message) : Exception(message);
