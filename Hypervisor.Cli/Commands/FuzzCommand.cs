using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Hypervisor.Fuzzing;
using Hypervisor.Loading;
using Hypervisor.Machine;

namespace Hypervisor.Cli.Commands;

/// <summary>
/// <c>hv fuzz --engines interp,bt --count N --seed S [--out DIR]</c>: the lockstep differential
/// fuzzer. The first engine is the oracle; every other one is run against it. Divergences and host
/// exceptions are shrunk and written as ELF files (original, shrunk, self-checking reproducer) plus
/// a text report. Exit code 0 when every program agreed, 1 when anything was found.
/// </summary>
public static class FuzzCommand
{
    public static Command Build(CliContext context)
    {
        var engines = new Option<string>("--engines") { Description = "Engines to compare, the oracle first (e.g. interp,bt or interp,bt,hybrid)", DefaultValueFactory = _ => "interp,bt" };
        var count = new Option<long>("--count") { Description = "Programs to run per engine pair", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<int?>("--seed") { Description = "Campaign seed (default 1); with --replay, the seed of the slice sizes" };
        var output = new Option<string?>("--out") { Description = "Folder for findings: <seed>-original.elf, -shrunk.elf, -repro.elf and a .txt report each" };
        var jobs = new Option<int>("--jobs") { Description = "Programs run in parallel (default: one per core)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var maxSlice = new Option<int>("--max-slice") { Description = "Largest lockstep slice in instructions (slices are 1..N)", DefaultValueFactory = _ => 50 };
        var threshold = new Option<int?>("--translation-threshold") { Description = "Block entries before the translator compiles a block (default: 1 for full, 2 for quick)" };
        var profile = new Option<string>("--profile") { Description = "Programs: full (10-40 items, nesting 2, every block compiled) or quick (short, body run twice, compiled on the second pass)", DefaultValueFactory = _ => "full" };
        var exclude = new Option<string?>("--exclude") { Description = "Instruction families to leave out, e.g. interrupts,devices (see FuzzFeatures: alu, muldiv, loadstore, branches, jumps, loops, atomics, traps, fences, selfmodifying, faultingaccess, counters, usermode, devices, interrupts, privileged, delegation, sv32, and system for the last four with usermode)" };
        var noShrink = new Option<bool>("--no-shrink") { Description = "Report findings without shrinking them" };
        var replay = new Option<string?>("--replay") { Description = "Run one fuzzer ELF (e.g. a written -shrunk.elf) in lockstep instead of generating programs" };
        var policy = new Option<string>("--policy") { Description = "The hybrid engine's policy: mode-split, hot-threshold or trap-and-emulate", DefaultValueFactory = _ => "mode-split" };
        var command = new Command("fuzz", "Run random RV32IMA programs in lockstep on two or more engines and report any divergence")
        {
            engines, count, seed, output, jobs, maxSlice, threshold, profile, exclude, noShrink, replay, policy,
        };
        command.SetAction(parse =>
        {
            IReadOnlyList<EngineKind> kinds;
            try
            {
                kinds = FuzzCampaign.ParseEngines(parse.GetValue(engines)!);
            }
            catch (FormatException e)
            {
                throw new CliException($"--engines: {e.Message}");
            }
            if (parse.GetValue(count) < 1)
            {
                throw new CliException("--count: must be at least 1");
            }
            if (parse.GetValue(jobs) < 1)
            {
                throw new CliException("--jobs: must be at least 1");
            }
            if (parse.GetValue(maxSlice) < 1)
            {
                throw new CliException("--max-slice: must be at least 1");
            }
            if (parse.GetValue(threshold) < 1)
            {
                throw new CliException("--translation-threshold: must be at least 1");
            }
            (GeneratorOptions generator, int defaultThreshold) = parse.GetValue(profile) switch
            {
                "full" => (GeneratorOptions.Default, 1),
                "quick" => (GeneratorOptions.Quick, 2),
                var other => throw new CliException($"--profile: '{other}' is not a profile (full, quick)"),
            };
            ElfImage probe = new ProgramGenerator().Generate(0).ToElfImage("probe");
            foreach (EngineKind kind in kinds)
            {
                try
                {
                    _ = new VirtualMachine("probe", probe, new MachineConfig { Engine = kind, MemorySize = FuzzLayout.MemorySize });
                }
                catch (NotSupportedException e)
                {
                    throw new CliException($"--engines: {e.Message}");
                }
            }
            foreach (string name in (parse.GetValue(exclude) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Enum.TryParse(name, ignoreCase: true, out FuzzFeatures feature) || feature is FuzzFeatures.None or FuzzFeatures.All)
                {
                    throw new CliException($"--exclude: '{name}' is not an instruction family ({string.Join(", ", Enum.GetNames<FuzzFeatures>()[1..^1]).ToLowerInvariant()})");
                }
                generator = generator with { Features = generator.Features & ~feature };
            }
            string policyName = parse.GetValue(policy)!;
            if (!EngineFactory.TryParsePolicy(policyName, out Engines.Hybrid.HybridPolicy hybridPolicy))
            {
                throw new CliException($"--policy: '{policyName}' is not a hybrid policy (mode-split, hot-threshold, trap-and-emulate)");
            }
            var lockstep = new LockstepOptions
            {
                MaxSlice = parse.GetValue(maxSlice),
                TranslationThreshold = parse.GetValue(threshold) ?? defaultThreshold,
                HybridPolicy = hybridPolicy,
            };
            string? replayPath = parse.GetValue(replay);
            return replayPath is not null
                ? Replay(context, kinds, lockstep, replayPath, parse.GetValue(seed), parse.GetValue(output), !parse.GetValue(noShrink))
                : Fuzz(context, kinds, lockstep, generator, parse.GetValue(count), parse.GetValue(seed) ?? 1, parse.GetValue(jobs),
                    parse.GetValue(output), !parse.GetValue(noShrink));
        });
        return command;
    }

    private static int Fuzz(CliContext context, IReadOnlyList<EngineKind> kinds, LockstepOptions lockstep, GeneratorOptions generator, long count, int seed,
        int jobs, string? outDir, bool shrink)
    {
        TextWriter err = context.Error;
        int findings = 0;
        long programs = 0;
        ulong instructions = 0;
        double seconds = 0;
        foreach (EngineKind b in kinds.Skip(1))
        {
            string pair = $"{EngineFactory.Names(kinds[0])} vs {EngineFactory.Names(b)}" +
                          (b == EngineKind.Hybrid ? $" ({EngineFactory.PolicyName(lockstep.HybridPolicy)})" : "");
            err.WriteLine($"hv fuzz: {count:N0} programs, seed {seed}, {pair}, {jobs} jobs, translation threshold {lockstep.TranslationThreshold}, features {generator.Features}");
            var options = new CampaignOptions
            {
                Seed = seed,
                Count = count,
                Parallelism = jobs,
                Shrink = shrink,
                Generator = generator,
                Lockstep = lockstep with { EngineA = kinds[0], EngineB = b },
            };
            CampaignSummary s = FuzzCampaign.Run(options, p => err.WriteLine(
                    $"  {p.Programs:N0}/{count:N0} programs, {p.Instructions:N0} instructions, {p.Divergences} divergences, " +
                    $"{p.HostExceptions} host exceptions, {(p.Seconds > 0 ? p.Programs / p.Seconds : 0):F0} programs/s"),
                TimeSpan.FromSeconds(5), context.Cancel);
            programs += s.Programs;
            instructions += s.Instructions;
            seconds += s.Seconds;
            findings += s.Divergences + s.HostExceptions;
            foreach (FuzzFinding f in s.Findings)
            {
                ReportFinding(context, f, outDir is null ? null : Path.Combine(outDir, $"{EngineFactory.Names(kinds[0])}-vs-{EngineFactory.Names(b)}"));
            }
            err.WriteLine($"hv fuzz: {pair}: {s.Programs:N0} programs, {s.Instructions:N0} instructions, {s.Divergences} divergences, " +
                          $"{s.HostExceptions} host exceptions in {s.Seconds:F1} s ({s.ProgramsPerSecond:F0} programs/s, " +
                          $"{(s.Seconds > 0 ? s.Instructions / s.Seconds / 1e6 : 0):F2} M lockstep instructions/s; " +
                          $"{s.TranslatedShare:P0} of {EngineFactory.Names(b)}'s instructions ran translated, {s.CoverageB.BlocksCompiled:N0} blocks compiled)" +
                          (s.StoppedEarly ? "; stopped early" : ""));
        }
        if (kinds.Count > 2)
        {
            err.WriteLine($"hv fuzz: total {programs:N0} programs, {instructions:N0} instructions, {findings} findings in {seconds:F1} s");
        }
        return findings == 0 ? 0 : 1;
    }

    private static void ReportFinding(CliContext context, FuzzFinding f, string? outDir)
    {
        TextWriter err = context.Error;
        err.WriteLine();
        err.WriteLine($"FINDING program #{f.Index} (seed {f.Program.Seed}): {f.Result.Divergence?.Summary}");
        if (f.Shrunk is not null && f.ShrunkResult is not null)
        {
            err.WriteLine($"  shrunk to {f.Shrunk.LiveInstructions} instructions: {f.ShrunkResult.Divergence?.Summary}");
            foreach (string line in f.Shrunk.Disassemble().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                err.WriteLine("    " + line);
            }
        }
        if (f.Reproducer is not null)
        {
            err.WriteLine($"  self-checking reproducer: {f.Result.EngineA} {f.Reproducer.Describe(f.Reproducer.OracleExit)}, " +
                          $"{f.Result.EngineB} {f.Reproducer.Describe(f.Reproducer.OtherExit)}");
        }
        if (outDir is not null)
        {
            foreach (string path in FuzzCampaign.Write(f, outDir))
            {
                err.WriteLine($"  wrote {path}");
            }
            err.WriteLine($"  replay: hv fuzz --engines {f.Result.EngineA},{f.Result.EngineB} --replay {Path.Combine(outDir, $"seed{f.Program.Seed}-shrunk.elf")}");
        }
    }

    /// <summary>Runs one written program in lockstep; with --out, a divergence is shrunk and written as a campaign finding is.</summary>
    private static int Replay(CliContext context, IReadOnlyList<EngineKind> kinds, LockstepOptions lockstep, string path, int? seed,
        string? outDir, bool shrink)
    {
        ElfImage image;
        try
        {
            image = ElfImage.Load(path);
        }
        catch (ElfLoadException e)
        {
            throw new CliException(e.Message);
        }
        int sliceSeed = seed ?? SeedFromName(path);
        int findings = 0;
        foreach (EngineKind b in kinds.Skip(1))
        {
            LockstepOptions pair = lockstep with { EngineA = kinds[0], EngineB = b };
            var runner = new LockstepRunner(pair);
            LockstepResult r = runner.Run(image, sliceSeed);
            context.Error.WriteLine($"hv fuzz: {Path.GetFileName(path)}: {r.EngineA} vs {r.EngineB}: {r.Verdict}; " +
                                    $"{r.Instructions:N0} instructions in {r.Slices} slices (slice seed {sliceSeed}); end: {r.End}");
            if (!r.Agreed)
            {
                findings++;
                context.Error.WriteLine($"  {r.Divergence?.Summary}");
                if (r.Divergence?.Exception is string ex)
                {
                    context.Error.WriteLine(ex);
                }
                if (outDir is not null)
                {
                    FuzzProgram program;
                    try
                    {
                        program = FuzzProgram.FromElf(image, sliceSeed);
                    }
                    catch (ElfLoadException e)
                    {
                        throw new CliException(e.Message);
                    }
                    var finding = new FuzzFinding(0, program, r);
                    ReportFinding(context, shrink ? FuzzCampaign.ShrinkFinding(finding, pair) : finding,
                        Path.Combine(outDir, $"{r.EngineA}-vs-{r.EngineB}"));
                }
            }
        }
        return findings == 0 ? 0 : 1;
    }

    /// <summary>The seed in a written finding's file name ("seed1234-shrunk.elf"), else 0.</summary>
    private static int SeedFromName(string path)
    {
        Match m = Regex.Match(Path.GetFileName(path), @"seed(-?\d+)");
        return m.Success && int.TryParse(m.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int s) ? s : 0;
    }
}
