using System.Diagnostics;
using Hypervisor.Machine;

namespace Hypervisor.Fuzzing;

/// <summary>A fuzzing run: how many programs, from which seed, on which engines.</summary>
public sealed record CampaignOptions
{
    public int Seed { get; init; }

    public long Count { get; init; } = 1000;

    public GeneratorOptions Generator { get; init; } = GeneratorOptions.Default;

    public LockstepOptions Lockstep { get; init; } = new();

    /// <summary>Programs run at once (each on its own pair of VMs).</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Shrink findings to minimal programs (the first <see cref="MaxShrunk"/> of them).</summary>
    public bool Shrink { get; init; } = true;

    public int MaxShrunk { get; init; } = 10;

    /// <summary>Stop after this many findings (the run ends early, its summary says so).</summary>
    public int MaxFindings { get; init; } = 100;
}

/// <summary>One divergence or host exception, with its minimal form.</summary>
public sealed record FuzzFinding(
    long Index,
    FuzzProgram Program,
    LockstepResult Result,
    FuzzProgram? Shrunk = null,
    LockstepResult? ShrunkResult = null,
    SelfCheckProgram? Reproducer = null)
{
    /// <summary>The text report: the finding, the minimal program, and how to reproduce it.</summary>
    public string Report()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"program #{Index} (seed {Program.Seed}): {Result.Verdict} — {Result.Divergence?.Summary}");
        sb.AppendLine();
        if (Shrunk is not null && ShrunkResult is not null)
        {
            sb.AppendLine($"== shrunk to {Shrunk.LiveInstructions} live instructions ==");
            sb.Append(LockstepRunner.Report(Shrunk, ShrunkResult));
            sb.AppendLine();
        }
        if (Reproducer is not null)
        {
            sb.AppendLine($"== self-checking reproducer: {Result.EngineA} {Reproducer.Describe(Reproducer.OracleExit)}; " +
                          $"{Result.EngineB} {Reproducer.Describe(Reproducer.OtherExit)} ==");
            sb.AppendLine();
        }
        sb.AppendLine("== original program ==");
        sb.Append(LockstepRunner.Report(Program, Result));
        return sb.ToString();
    }
}

/// <summary>Progress of a running campaign.</summary>
public readonly record struct CampaignProgress(long Programs, ulong Instructions, int Divergences, int HostExceptions, double Seconds);

/// <summary>What the engine under test did over a campaign: how much of it ran translated.</summary>
public readonly record struct EngineCoverage(long TranslatedInstructions, long BlocksCompiled);

/// <summary>The figures of a finished campaign.</summary>
public sealed record CampaignSummary(
    long Programs,
    ulong Instructions,
    int Divergences,
    int HostExceptions,
    double Seconds,
    bool StoppedEarly,
    IReadOnlyList<FuzzFinding> Findings)
{
    /// <summary>Instructions engine B ran in translated blocks, and blocks it compiled, over the agreeing programs.</summary>
    public EngineCoverage CoverageB { get; init; }

    /// <summary>Share of executed instructions engine B ran translated (0 for engines that do not translate).</summary>
    public double TranslatedShare => Instructions > 0 ? (double)CoverageB.TranslatedInstructions / Instructions : 0;

    public double ProgramsPerSecond => Seconds > 0 ? Programs / Seconds : 0;

    public bool Clean => Divergences == 0 && HostExceptions == 0;
}

/// <summary>
/// Generates and runs programs in lockstep, in parallel, and shrinks what it finds:
/// the engine behind <c>hv fuzz</c> and the fixed-seed fuzz tests.
/// </summary>
public static class FuzzCampaign
{
    public static CampaignSummary Run(CampaignOptions options, Action<CampaignProgress>? progress = null,
        TimeSpan? progressInterval = null, CancellationToken cancel = default)
    {
        var generator = new ProgramGenerator(options.Generator);
        var runner = new LockstepRunner(options.Lockstep);
        var findings = new List<FuzzFinding>();
        long programs = 0;
        long instructions = 0, translated = 0, blocks = 0;
        int divergences = 0, hostExceptions = 0;
        bool stopped = false;
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);

        var work = Task.Run(() =>
        {
            try
            {
                Parallel.For(0L, options.Count,
                    new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = stop.Token },
                    index =>
                    {
                        FuzzProgram program = generator.Generate(ProgramGenerator.ProgramSeed(options.Seed, index));
                        LockstepResult result = runner.Run(program);
                        Interlocked.Add(ref instructions, (long)result.Instructions);
                        Interlocked.Increment(ref programs);
                        if (result.Agreed)
                        {
                            Interlocked.Add(ref translated, result.TranslatedB);
                            Interlocked.Add(ref blocks, result.BlocksB);
                            return;
                        }
                        if (result.Verdict == LockstepVerdict.Diverged)
                        {
                            Interlocked.Increment(ref divergences);
                        }
                        else
                        {
                            Interlocked.Increment(ref hostExceptions);
                        }
                        var finding = new FuzzFinding(index, program, result);
                        lock (findings)
                        {
                            findings.Add(finding);
                            if (findings.Count >= options.MaxFindings)
                            {
                                stopped = true;
                                stop.Cancel();
                            }
                        }
                    });
            }
            catch (OperationCanceledException)
            {
                stopped = true;
            }
        }, CancellationToken.None);

        TimeSpan interval = progressInterval ?? TimeSpan.FromSeconds(1);
        while (!work.Wait(progress is null ? Timeout.InfiniteTimeSpan : interval))
        {
            progress!(new CampaignProgress(Interlocked.Read(ref programs), (ulong)Interlocked.Read(ref instructions),
                Volatile.Read(ref divergences), Volatile.Read(ref hostExceptions), clock.Elapsed.TotalSeconds));
        }
        clock.Stop();

        findings.Sort((x, y) => x.Index.CompareTo(y.Index));
        List<FuzzFinding> reported = [];
        foreach (FuzzFinding f in findings)
        {
            reported.Add(options.Shrink && reported.Count < options.MaxShrunk ? ShrinkFinding(f, options.Lockstep) : f);
        }
        return new CampaignSummary(programs, (ulong)instructions, divergences, hostExceptions, clock.Elapsed.TotalSeconds,
            stopped, reported)
        {
            CoverageB = new EngineCoverage(translated, blocks),
        };
    }

    /// <summary>Shrinks a finding (keeping its verdict) and builds its self-checking reproducer.</summary>
    public static FuzzFinding ShrinkFinding(FuzzFinding finding, LockstepOptions lockstep)
    {
        var runner = new LockstepRunner(lockstep);
        // Keep the finding's kind while shrinking: the same verdict and the same differing field,
        // so that the minimal program shows the original symptom rather than another one it met on the way.
        LockstepVerdict verdict = finding.Result.Verdict;
        string? field = finding.Result.Divergence?.Difference?.Field;
        var shrinker = new Shrinker(p =>
        {
            LockstepResult r = runner.Run(p);
            return r.Verdict == verdict && r.Divergence?.Difference?.Field == field;
        });
        FuzzProgram shrunk = shrinker.Shrink(finding.Program);
        LockstepResult shrunkResult = runner.Run(shrunk);
        SelfCheckProgram? reproducer = lockstep.DecorateA is null && lockstep.DecorateB is null
            ? SelfCheck.Build(shrunk, lockstep.EngineA, lockstep.EngineB, lockstep.TranslationThreshold, lockstep.MaxInstructions)
            : null;
        return finding with { Shrunk = shrunk, ShrunkResult = shrunkResult, Reproducer = reproducer };
    }

    /// <summary>Writes a finding's ELF files and its report into <paramref name="directory"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(FuzzFinding finding, string directory)
    {
        Directory.CreateDirectory(directory);
        string stem = Path.Combine(directory, $"seed{finding.Program.Seed}");
        var written = new List<string>();
        void Save(string path, byte[] bytes)
        {
            File.WriteAllBytes(path, bytes);
            written.Add(path);
        }
        Save(stem + "-original.elf", finding.Program.ToElf());
        if (finding.Shrunk is not null)
        {
            Save(stem + "-shrunk.elf", finding.Shrunk.ToElf());
        }
        if (finding.Reproducer is not null)
        {
            Save(stem + "-repro.elf", finding.Reproducer.Program.ToElf());
        }
        File.WriteAllText(stem + ".txt", finding.Report());
        written.Add(stem + ".txt");
        return written;
    }

    /// <summary>The engines a list such as "interp,bt" names; the first is the oracle.</summary>
    public static IReadOnlyList<EngineKind> ParseEngines(string list)
    {
        var engines = new List<EngineKind>();
        foreach (string name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!EngineFactory.TryParse(name, out EngineKind kind))
            {
                throw new FormatException($"'{name}' is not an engine (interp, bt, hybrid)");
            }
            engines.Add(kind);
        }
        if (engines.Count < 2 || engines.Distinct().Count() != engines.Count)
        {
            throw new FormatException($"'{list}' must name at least two different engines, the oracle first (e.g. interp,bt)");
        }
        return engines;
    }
}
