using Hypervisor.Cpu;
using Hypervisor.Engines;
using Hypervisor.Engines.Hybrid;
using Hypervisor.Engines.Interpreter;
using Hypervisor.Engines.Translation;
using Hypervisor.Memory;

namespace Hypervisor.Machine;

/// <summary>Builds the engine a VM's configuration names.</summary>
public static class EngineFactory
{
    public static IExecutionEngine Create(EngineKind kind, Hart hart, SystemBus bus) => kind switch
    {
        EngineKind.Interpreter => new InterpreterEngine(hart, bus),
        EngineKind.BinaryTranslator => new TranslatorEngine(hart, bus),
        _ => new HybridEngine(hart, bus),
    };

    /// <summary>Builds the engine <paramref name="config"/> names, with its engine settings (translation threshold).</summary>
    public static IExecutionEngine Create(MachineConfig config, Hart hart, SystemBus bus) => config.Engine switch
    {
        EngineKind.BinaryTranslator => new TranslatorEngine(hart, bus,
            cacheCapacity: config.TranslationCacheCapacity,
            translationThreshold: config.TranslationThreshold ?? TranslatorEngine.DefaultTranslationThreshold,
            backgroundCompilation: config.BackgroundCompilation),
        EngineKind.Hybrid => new HybridEngine(hart, bus, config.HybridPolicy, config.HotThreshold, config.TranslationThreshold,
            config.BackgroundCompilation),
        _ => Create(config.Engine, hart, bus),
    };

    /// <summary>Parses "mode-split", "hot-threshold" or "trap-and-emulate".</summary>
    public static bool TryParsePolicy(string text, out HybridPolicy policy)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "mode-split": policy = HybridPolicy.ModeSplit; return true;
            case "hot-threshold": policy = HybridPolicy.HotThreshold; return true;
            case "trap-and-emulate": policy = HybridPolicy.TrapAndEmulate; return true;
            default: policy = default; return false;
        }
    }

    public static string PolicyName(HybridPolicy policy) => policy switch
    {
        HybridPolicy.ModeSplit => "mode-split",
        HybridPolicy.HotThreshold => "hot-threshold",
        _ => "trap-and-emulate",
    };

    public static string Names(EngineKind kind) => kind switch
    {
        EngineKind.Interpreter => "interp",
        EngineKind.BinaryTranslator => "bt",
        _ => "hybrid",
    };

    /// <summary>Parses "interp", "bt" or "hybrid" (and a few long spellings).</summary>
    public static bool TryParse(string text, out EngineKind kind)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "interp": case "interpreter": kind = EngineKind.Interpreter; return true;
            case "bt": case "translator": case "binary-translator": kind = EngineKind.BinaryTranslator; return true;
            case "hybrid": kind = EngineKind.Hybrid; return true;
            default: kind = default; return false;
        }
    }
}
