using System.CommandLine;
using System.Text.Json;
using Hypervisor.Devices;
using Hypervisor.Loading;
using Hypervisor.Machine;
using Hypervisor.Cli.Telemetry;

namespace Hypervisor.Cli.Commands;

/// <summary><c>hv run &lt;guest.elf&gt;</c>: runs one guest with the terminal connected to its UART, like <c>qemu-system-riscv32 -nographic</c>.</summary>
public static class RunCommand
{
    public static Command Build(CliContext context)
    {
        var target = new Argument<string>("target") { Description = "Guest ELF to run, or a scenario (.hocon/.conf) to run as a fleet" };
        var engine = new Option<string>("--engine") { Description = "Execution engine: interp, bt or hybrid", DefaultValueFactory = _ => "interp" };
        var memory = new Option<string>("--memory") { Description = "Guest RAM size (e.g. 128M, 64MiB, 512K)", DefaultValueFactory = _ => "128M" };
        var memoryQuota = new Option<string?>("--memory-quota") { Description = "Most RAM the guest may allocate (resident, e.g. 1M); a store beyond it is a store access fault in the guest" };
        var maxInstructions = new Option<ulong?>("--max-instructions") { Description = "Stop the guest after this many instructions (exit code 124)" };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object on the last line of stdout" };
        var output = new Option<string?>("--out") { Description = "Scenario: folder for the run's transcripts, log and summary (default: output.dir, runs/<timestamp>)" };
        var duration = new Option<string?>("--duration") { Description = "Scenario: stop the fleet after this much host time (e.g. 10s); overrides stop-after" };
        var plain = new Option<bool>("--plain") { Description = "Scenario: no live table; stream each VM's lines prefixed with [vm]" };
        var stdinTo = new Option<string?>("--stdin-to") { Description = "Scenario: feed standard input to this VM's UART (applied and logged at its virtual time)" };
        var policy = new Option<string>("--policy") { Description = "Hybrid engine policy: mode-split, hot-threshold or trap-and-emulate", DefaultValueFactory = _ => "mode-split" };
        var hotThreshold = new Option<int>("--hot-threshold") { Description = "Hybrid hot-threshold policy: executions of a block before it is translated", DefaultValueFactory = _ => Engines.Hybrid.HybridEngine.DefaultHotThreshold };
        var translationThreshold = new Option<int?>("--translation-threshold") { Description = "Binary translator: entries of a block before it is compiled (default 128)" };
        var background = new Option<bool>("--background-compilation") { Description = "Binary translator: compile on a background thread, interpreting until ready" };
        var stats = new Option<bool>("--stats") { Description = "Print the engine's counters (instructions by tier, translations, traps, callouts) to stderr" };
        var command = new Command("run", "Run a guest ELF (the terminal is its UART) or a scenario of many VMs")
        {
            target, engine, memory, memoryQuota, maxInstructions, json, output, duration, plain, stdinTo, policy, hotThreshold, translationThreshold, background, stats,
        };
        var telemetry = new TelemetryOptions();
        telemetry.AddTo(command);
        command.SetAction(parse =>
        {
            string t = parse.GetValue(target)!;
            if (FleetCommand.IsScenario(t))
            {
                foreach (Option o in new Option[] { engine, memory, memoryQuota, maxInstructions, policy, hotThreshold, translationThreshold, background, stats })
                {
                    if (parse.GetResult(o) is { Implicit: false })
                    {
                        throw new CliException($"{o.Name}: applies to a guest ELF; a scenario sets it per VM (see hocon/hypervisor.conf)");
                    }
                }
                return FleetCommand.Execute(context, t, parse.GetValue(json), parse.GetValue(output), parse.GetValue(duration), parse.GetValue(plain), parse.GetValue(stdinTo),
                    telemetry.Read(parse));
            }
            foreach (Option o in new Option[] { output, duration, plain, stdinTo })
            {
                if (parse.GetResult(o) is { Implicit: false })
                {
                    throw new CliException($"{o.Name}: applies to a scenario (.hocon), not to a guest ELF");
                }
            }
            string policyName = parse.GetValue(policy)!;
            if (!EngineFactory.TryParsePolicy(policyName, out Engines.Hybrid.HybridPolicy hybridPolicy))
            {
                throw new CliException($"--policy: '{policyName}' is not a hybrid policy (mode-split, hot-threshold, trap-and-emulate)");
            }
            if (parse.GetValue(hotThreshold) < 1)
            {
                throw new CliException("--hot-threshold: must be at least 1");
            }
            if (parse.GetValue(translationThreshold) is int tt && tt < 1)
            {
                throw new CliException("--translation-threshold: must be at least 1");
            }
            long? quota = null;
            if (parse.GetValue(memoryQuota) is string quotaText)
            {
                try
                {
                    quota = MachineConfig.ParseSize(quotaText);
                }
                catch (FormatException e)
                {
                    throw new CliException($"--memory-quota: {e.Message}");
                }
            }
            var tuning = new MachineConfig
            {
                MemoryQuota = quota,
                HybridPolicy = hybridPolicy,
                HotThreshold = parse.GetValue(hotThreshold),
                TranslationThreshold = parse.GetValue(translationThreshold),
                BackgroundCompilation = parse.GetValue(background),
            };
            return Execute(context, t, parse.GetValue(engine)!, parse.GetValue(memory)!, parse.GetValue(maxInstructions), parse.GetValue(json),
                tuning, parse.GetValue(stats), telemetry.Read(parse));
        });
        return command;
    }

    private static int Execute(CliContext context, string target, string engineName, string memoryText, ulong? maxInstructions, bool json,
        MachineConfig tuning, bool printStats, TelemetryOverrides telemetry)
    {
        if (!EngineFactory.TryParse(engineName, out EngineKind engine))
        {
            throw new CliException($"--engine: '{engineName}' is not an engine (interp, bt, hybrid)");
        }
        uint memory;
        try
        {
            memory = MachineConfig.ParseSize(memoryText);
        }
        catch (FormatException e)
        {
            throw new CliException($"--memory: {e.Message}");
        }
        MachineConfig config = tuning with { MemorySize = memory, Engine = engine };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliException($"{(e.Message.StartsWith("memory quota", StringComparison.Ordinal) ? "--memory-quota" : "--memory")}: {e.Message}");
        }
        if (maxInstructions == 0)
        {
            throw new CliException("--max-instructions: must be at least 1");
        }

        VirtualMachine vm;
        var console = new ConsoleBridge(context);
        long created = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            ElfImage image = ElfImage.Load(target);
            vm = new VirtualMachine(Path.GetFileNameWithoutExtension(target), image, config, console.Write);
        }
        catch (ElfLoadException e)
        {
            throw new CliException(e.Message);
        }
        catch (NotSupportedException e)
        {
            throw new CliException($"--engine: {e.Message}");
        }

        if (printStats && vm.Engine is Engines.Hybrid.HybridEngine hybrid)
        {
            hybrid.MeasureTierTime = true;
        }
        console.AttachInput(vm.Uart);
        SingleVmTelemetry? trace = SingleVmTelemetry.Start(telemetry, vm, target, created);
        var runner = new GuestRunner(vm)
        {
            BetweenSlices = trace is null ? console.Flush : () =>
            {
                console.Flush();
                trace.SliceDone();
            },
            WaitForInput = console.WaitForInput,
        };
        RunSummary summary = runner.Run(maxInstructions ?? ulong.MaxValue, context.Cancel);
        console.Flush();
        trace?.Dispose();
        if (trace?.Pipeline.TraceFile is { } traceFile)
        {
            context.Error.WriteLine($"hv: trace ({traceFile.Events:N0} events) in {traceFile.Path}: open it in ui.perfetto.dev or chrome://tracing, or run hv report");
        }
        context.Error.WriteLine(Describe(vm, summary));
        InterruptStats? storm = vm.InterruptAccounting.Active ? vm.InterruptAccounting.Snapshot() : null;
        if (storm is not null)
        {
            context.Error.WriteLine(DescribeInterrupts(storm));
        }
        if (summary.Fault is not null)
        {
            context.Error.WriteLine(summary.Fault.ToString());
        }
        EngineReport report = EngineReport.Of(vm);
        if (printStats)
        {
            foreach (string line in report.Lines())
            {
                context.Error.WriteLine(line);
            }
        }
        if (json)
        {
            console.EnsureNewline();
            context.WriteOutLine(JsonSerializer.Serialize(new
            {
                exitCode = summary.ProcessExitCode,
                guestCode = summary.GuestCode,
                end = summary.End.ToString(),
                instret = summary.Instret,
                wallSeconds = Math.Round(summary.WallSeconds, 6),
                mips = Math.Round(summary.Mips, 3),
                engine = summary.Engine,
                residentBytes = vm.Ram.ResidentBytes,
                quotaRefusals = vm.Ram.QuotaRefusals,
                engineStats = report,
                raised = storm?.Raised ?? 0,
                delivered = storm?.Delivered ?? 0,
                coalesced = storm?.Coalesced ?? 0,
                deferred = storm?.Deferred ?? 0,
                lost = storm?.Lost ?? 0,
                latency = storm is null ? null : new
                {
                    samples = storm.VirtualLatencyNs.Count,
                    virtualMicroseconds = new { p50 = Math.Round(storm.VirtualLatencyNs.P50 / 1000, 3), p99 = Math.Round(storm.VirtualLatencyNs.P99 / 1000, 3), max = Math.Round(storm.VirtualLatencyNs.Max / 1000, 3) },
                    hostMicroseconds = new { p50 = Math.Round(storm.HostLatencyNs.P50 / 1000, 3), p99 = Math.Round(storm.HostLatencyNs.P99 / 1000, 3), max = Math.Round(storm.HostLatencyNs.Max / 1000, 3) },
                },
            }));
        }
        return summary.ProcessExitCode;
    }

    /// <summary>The interrupt generator's accounting, when it saw traffic (docs/interrupt-generator.md).</summary>
    private static string DescribeInterrupts(InterruptStats g) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"hv: interrupt generator: raised {g.Raised:N0}, delivered {g.Delivered:N0}, coalesced {g.Coalesced:N0}, deferred {g.Deferred:N0}, lost {g.Lost:N0}; " +
        $"latency p50/p99/max {g.VirtualLatencyNs.P50 / 1000:0.###}/{g.VirtualLatencyNs.P99 / 1000:0.###}/{g.VirtualLatencyNs.Max / 1000:0.###} us virtual, " +
        $"{g.HostLatencyNs.P50 / 1000:0.###}/{g.HostLatencyNs.P99 / 1000:0.###}/{g.HostLatencyNs.Max / 1000:0.###} us host");

    private static string Describe(VirtualMachine vm, RunSummary s)
    {
        string how = s.End switch
        {
            RunEnd.PoweredOff => s.GuestCode == 0 ? "powered off (pass)" : $"powered off (fail, code {s.GuestCode})",
            RunEnd.InstructionLimit => "stopped at the --max-instructions limit",
            RunEnd.GuestFault => "stopped on a fatal guest fault",
            RunEnd.HaltedIdle => "halted: idle in WFI with nothing that can wake it",
            _ => "interrupted",
        };
        return $"hv: {vm.Name}: {how}; {s.Instret:N0} instructions in {s.WallSeconds:F3} s ({s.Mips:F1} MIPS, {s.Engine})";
    }
}
