using System.CommandLine;
using Hypervisor.Cli.Commands;

namespace Hypervisor.Cli;

/// <summary>The <c>hv</c> command line: parses arguments and dispatches to a command.</summary>
public static class HvApp
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
            // One clear line, no usage dump: the user can ask for --help.
            context.Error.WriteLine($"hv: {parsed.Errors[0].Message} (see 'hv --help')");
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

/// <summary>A user error a command reports as one line (bad file, bad option value).</summary>
public sealed class CliException(string message) : Exception(message);
