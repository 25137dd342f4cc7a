using System.CommandLine;
using Hypervisor.Actors.Config;
using Hypervisor.Loading;
using Hypervisor.Machine;
using Hypervisor.Monitor;
using Hypervisor.Profiling;

namespace Hypervisor.Cli.Commands;

/// <summary>One VM run with profiling on, and what came of it.</summary>
public sealed record ProfiledVm(string Name, string ImagePath, string Engine, ProfileMethod Method, RunSummary Summary, ProfileReport Report);

/// <summary>
/// What <c>hv profile</c> and <c>hv coverage</c> share: the options, and running each VM of a guest
/// ELF or a scenario to its end with profiling on, one after another on this thread (no actors:
/// a profile needs one VM's control flow, not a fleet's schedule).
/// </summary>
public sealed class ProfileRuns
{
    public Argument<string> Target { get; } = new("target") { Description = "Guest ELF to profile, or a scenario (.hocon/.conf): each of its VMs is profiled" };

    public Option<string?> Engine { get; } = new("--engine") { Description = "Execution engine: interp, bt or hybrid (default interp; for a scenario, each VM's own unless given)" };

    public Option<string> Method { get; } = new("--method") { Description = "patch (binary patching by the monitor) or translate (counters in the engines)", DefaultValueFactory = _ => "translate" };

    public Option<ulong?> MaxInstructions { get; } = new("--max-instructions") { Description = "Stop each VM after this many instructions (the profile covers what ran)" };

    public Option<string?> Input { get; } = new("--input") { Description = "Guest ELF: a file whose bytes are fed to the guest's UART at start" };

    public void AddTo(Command command)
    {
        command.Add(Target);
        command.Add(Engine);
        command.Add(Method);
        command.Add(MaxInstructions);
        command.Add(Input);
    }

    /// <summary>Runs every VM the target names with profiling on; one-line <see cref="CliException"/>s for bad input.</summary>
    public IReadOnlyList<ProfiledVm> Run(ParseResult parse, CliContext context)
    {
        string target = parse.GetValue(Target)!;
        string? engineText = parse.GetValue(Engine);
        EngineKind? engine = null;
        if (engineText is not null)
        {
            if (!EngineFactory.TryParse(engineText, out EngineKind kind))
            {
                throw new CliException($"--engine: '{engineText}' is not an engine (interp, bt, hybrid)");
            }
            engine = kind;
        }
        string methodText = parse.GetValue(Method)!;
        ProfileMethod method = methodText switch
        {
            "patch" => ProfileMethod.Patch,
            "translate" => ProfileMethod.Translate,
            _ => throw new CliException($"--method: '{methodText}' is not a profiling method (patch, translate)"),
        };
        ulong? max = parse.GetValue(MaxInstructions);
        if (max == 0)
        {
            throw new CliException("--max-instructions: must be at least 1");
        }
        string? inputFile = parse.GetValue(Input);

        var jobs = new List<(string Name, string ImagePath, MachineConfig Config, ConsoleSpec Console)>();
        if (FleetCommand.IsScenario(target))
        {
            if (inputFile is not null)
            {
                throw new CliException("--input: applies to a guest ELF; a scenario sets each VM's console input");
            }
            Scenario scenario;
            try
            {
                scenario = ScenarioLoader.Load(target);
            }
            catch (ScenarioException e)
            {
                throw new CliException(e.Message);
            }
            foreach (VmSpec vm in scenario.Vms)
            {
                jobs.Add((vm.Name, vm.ImagePath, engine is EngineKind e ? vm.Machine with { Engine = e } : vm.Machine, vm.Console));
            }
        }
        else
        {
            ConsoleSpec console = ConsoleSpec.None;
            if (inputFile is not null)
            {
                try
                {
                    console = new ConsoleSpec(File.ReadAllBytes(inputFile), 0);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new CliException($"--input: cannot read {inputFile}: {e.Message}");
                }
            }
            jobs.Add((Path.GetFileNameWithoutExtension(target), target, new MachineConfig { Engine = engine ?? EngineKind.Interpreter }, console));
        }

        var images = new Dictionary<string, ElfImage>(StringComparer.Ordinal);
        var results = new List<ProfiledVm>();
        foreach ((string name, string path, MachineConfig config, ConsoleSpec console) in jobs)
        {
            if (context.Cancel.IsCancellationRequested)
            {
                break;
            }
            VirtualMachine vm;
            try
            {
                if (!images.TryGetValue(path, out ElfImage? image))
                {
                    image = ElfImage.Load(path);
                    images[path] = image;
                }
                vm = new VirtualMachine(name, image, config);
            }
            catch (ElfLoadException e)
            {
                throw new CliException(e.Message);
            }
            catch (NotSupportedException e)
            {
                throw new CliException($"--engine: {e.Message}");
            }
            try
            {
                vm.StartProfiling(method);
            }
            catch (NotSupportedException e)
            {
                throw new CliException($"--method: {e.Message}");
            }
            FeedInput(vm, console);
            RunSummary summary = new GuestRunner(vm).Run(max ?? ulong.MaxValue, context.Cancel);
            ProfileReport report = ProfileReport.Build(vm.Profile!, vm.Image, vm.Bus, vm.State.Pc);
            context.Error.WriteLine($"hv: {name}: {Describe(summary)}; {summary.Instret:N0} instructions in {summary.WallSeconds:F3} s ({summary.Engine}, {MethodName(method)})");
            results.Add(new ProfiledVm(name, path, summary.Engine, method, summary, report));
        }
        return results;
    }

    /// <summary>The process exit code: a single guest's own (as <c>hv run</c>), or 0/1 for a scenario (every VM passed or not).</summary>
    public static int ExitCode(IReadOnlyList<ProfiledVm> runs, bool scenario, CliContext context)
    {
        if (context.Cancel.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
        if (!scenario)
        {
            return runs.Count == 1 ? runs[0].Summary.ProcessExitCode : ExitCodes.Interrupted;
        }
        return runs.All(r => r.Summary.ProcessExitCode == 0) ? 0 : 1;
    }

    public static string MethodName(ProfileMethod method) => method == ProfileMethod.Patch ? "patch" : "translate";

    /// <summary>Console input at its virtual time (as the VM actor does), or at once in realtime mode.</summary>
    private static void FeedInput(VirtualMachine vm, ConsoleSpec console)
    {
        byte[] input = console.Input;
        if (input.Length == 0)
        {
            return;
        }
        if (vm.Clock.Mode != TimeMode.Virtual || console.InputAtTicks == 0)
        {
            vm.Uart.Receive(input);
            return;
        }
        UInt128 at = (UInt128)console.InputAtTicks * vm.Clock.InstructionsPerTick;
        vm.Events.Schedule(at >= ulong.MaxValue ? ulong.MaxValue : (ulong)at, () =>
        {
            vm.Uart.Receive(input);
            vm.Uart.PollInput();
        });
    }

    private static string Describe(RunSummary s) => s.End switch
    {
        RunEnd.PoweredOff => s.GuestCode == 0 ? "powered off (pass)" : $"powered off (fail, code {s.GuestCode})",
        RunEnd.InstructionLimit => "stopped at the --max-instructions limit",
        RunEnd.GuestFault => "stopped on a fatal guest fault",
        RunEnd.HaltedIdle => "halted: idle in WFI with nothing that can wake it",
        _ => "interrupted",
    };
}
