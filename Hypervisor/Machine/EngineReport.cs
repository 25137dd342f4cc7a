using System.Diagnostics;
using System.Globalization;
using Hypervisor.Cpu;
using Hypervisor.Engines;
using Hypervisor.Engines.Hybrid;
using Hypervisor.Engines.Translation;

namespace Hypervisor.Machine;

/// <summary>
/// The counters that make the engines and techniques comparable, gathered from a VM after (or
/// during) a run: instructions by tier, translations and their cost, cache behaviour, traps to the
/// monitor and callouts by kind, exceptions and interrupts by cause.
/// </summary>
public sealed record EngineReport
{
    public required string Engine { get; init; }
    public string? Policy { get; init; }
    public long InstructionsInterpreted { get; init; }
    public long InstructionsTranslated { get; init; }
    public long InstructionsDirect { get; init; }
    public long BlocksTranslated { get; init; }
    public long BlocksCompiled { get; init; }
    public long BlocksShared { get; init; }
    public double TranslationSeconds { get; init; }
    public double JitSeconds { get; init; }
    public double EmitSeconds { get; init; }

    /// <summary>IL bytes emitted for the blocks compiled here (the JIT's work grows with it).</summary>
    public long IlBytes { get; init; }
    public long CacheLookups { get; init; }
    public double CacheHitRate { get; init; }
    public long CacheInvalidations { get; init; }
    public long CacheFlushes { get; init; }
    public long Callouts { get; init; }
    public long TrapsToMonitor { get; init; }
    public IReadOnlyDictionary<string, long> TrapsByKind { get; init; } = new Dictionary<string, long>();
    public IReadOnlyDictionary<string, long> ExceptionsByCause { get; init; } = new Dictionary<string, long>();
    public IReadOnlyDictionary<string, long> InterruptsByCause { get; init; } = new Dictionary<string, long>();
    public double DirectTierSeconds { get; init; }
    public double TranslationTierSeconds { get; init; }
    public double MonitorSeconds { get; init; }

    public static EngineReport Of(VirtualMachine vm)
    {
        IExecutionEngine engine = vm.Engine;
        EngineStatistics s = engine.Statistics;
        TranslationCacheStatistics? cache = engine switch
        {
            TranslatorEngine t => t.Cache.Statistics,
            HybridEngine h => h.Translator.Cache.Statistics,
            _ => null,
        };
        HybridEngine? hybrid = engine as HybridEngine;
        double f = Stopwatch.Frequency;
        return new EngineReport
        {
            Engine = engine.Name,
            Policy = hybrid is null ? null : EngineFactory.PolicyName(hybrid.Policy),
            InstructionsInterpreted = hybrid?.Tiers.InstructionsInterpreted ?? s.InstructionsInterpreted,
            InstructionsTranslated = hybrid?.Tiers.InstructionsTranslated ?? s.InstructionsTranslated,
            InstructionsDirect = hybrid?.Tiers.InstructionsDirect ?? s.InstructionsDirect,
            BlocksTranslated = cache?.Translations ?? 0,
            BlocksCompiled = cache?.Compilations ?? 0,
            BlocksShared = cache?.SharedReuses ?? 0,
            TranslationSeconds = (cache?.TranslationTicks ?? 0) / f,
            JitSeconds = (cache?.JitTicks ?? 0) / f,
            EmitSeconds = (cache?.EmitTicks ?? 0) / f,
            IlBytes = cache?.IlBytes ?? 0,
            CacheLookups = cache?.Lookups ?? 0,
            CacheHitRate = cache?.HitRate ?? 0,
            CacheInvalidations = cache?.Invalidations ?? 0,
            CacheFlushes = cache?.Flushes ?? 0,
            Callouts = s.Callouts,
            TrapsToMonitor = hybrid?.Tiers.TotalTraps ?? 0,
            TrapsByKind = hybrid?.Tiers.TrapsByKind() ?? new Dictionary<string, long>(),
            ExceptionsByCause = ByCause(vm.Hart.ExceptionsRaised, interrupt: false),
            InterruptsByCause = ByCause(vm.Hart.InterruptsTaken, interrupt: true),
            DirectTierSeconds = (hybrid?.Tiers.DirectTierTicks ?? 0) / f,
            TranslationTierSeconds = (hybrid?.Tiers.TranslationTierTicks ?? 0) / f,
            MonitorSeconds = (hybrid?.Tiers.MonitorTicks ?? 0) / f,
        };
    }

    private static Dictionary<string, long> ByCause(long[] counts, bool interrupt)
    {
        var result = new Dictionary<string, long>();
        for (int code = 0; code < counts.Length; code++)
        {
            if (counts[code] != 0)
            {
                uint cause = interrupt ? InterruptBits.CauseInterruptFlag | (uint)code : (uint)code;
                result[GuestFaultReport.CauseName(cause)] = counts[code];
            }
        }
        return result;
    }

    /// <summary>Human-readable lines for <c>hv run --stats</c>.</summary>
    public IEnumerable<string> Lines()
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        yield return string.Create(c, $"engine {Engine}{(Policy is null ? "" : $" ({Policy})")}: instructions interpreted {InstructionsInterpreted:N0}, translated {InstructionsTranslated:N0}, direct {InstructionsDirect:N0}");
        if (BlocksTranslated > 0)
        {
            yield return string.Create(c, $"  blocks translated {BlocksTranslated:N0} (compiled here {BlocksCompiled:N0}, shared {BlocksShared:N0}), translation {TranslationSeconds * 1e3:F1} ms (JIT {JitSeconds * 1e3:F1} ms, IL {EmitSeconds * 1e3:F1} ms), {TranslationSeconds * 1e6 / BlocksTranslated:F0} us/block, {(BlocksCompiled > 0 ? IlBytes / BlocksCompiled : 0):N0} IL bytes/block");
            yield return string.Create(c, $"  cache lookups {CacheLookups:N0}, hit rate {CacheHitRate:P1}, invalidations {CacheInvalidations:N0}, flushes {CacheFlushes:N0}");
        }
        yield return string.Create(c, $"  callouts {Callouts:N0}, traps to the monitor {TrapsToMonitor:N0}{Join(TrapsByKind)}");
        if (ExceptionsByCause.Count > 0)
        {
            yield return "  exceptions" + Join(ExceptionsByCause);
        }
        if (InterruptsByCause.Count > 0)
        {
            yield return "  interrupts" + Join(InterruptsByCause);
        }
        if (Policy is not null)
        {
            yield return string.Create(c, $"  time in direct execution {DirectTierSeconds:F3} s, translation tier {TranslationTierSeconds:F3} s, monitor {MonitorSeconds:F3} s");
        }
    }

    private static string Join(IReadOnlyDictionary<string, long> counts) =>
        counts.Count == 0 ? "" : " (" + string.Join(", ", counts.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:N0}"))) + ")";
}
