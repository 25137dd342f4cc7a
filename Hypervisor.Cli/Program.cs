using Hypervisor.Cli;

return HvApp.Run(args, CliContext.FromConsole());
