using Hypervisor.Engines.Hybrid;
using Hypervisor.Machine;

namespace Hypervisor.Tests.Support;

/// <summary>The engine configurations every guest test runs on: each engine, and the hybrid with each policy.</summary>
public static class EngineMatrix
{
    public static readonly string[] All = ["interp", "bt", "bt-background", "hybrid-mode-split", "hybrid-hot-threshold", "hybrid-trap-and-emulate"];

    /// <summary>The machine configuration a matrix entry names.</summary>
    public static MachineConfig Config(string engine) => engine switch
    {
        "interp" => new MachineConfig { Engine = EngineKind.Interpreter },
        // Below the default threshold (128), so that the short guests run more of their code translated.
        "bt" => new MachineConfig { Engine = EngineKind.BinaryTranslator, TranslationThreshold = 32 },
        "bt-background" => new MachineConfig { Engine = EngineKind.BinaryTranslator, BackgroundCompilation = true, TranslationThreshold = 2 },
        "hybrid-mode-split" => new MachineConfig { Engine = EngineKind.Hybrid, HybridPolicy = HybridPolicy.ModeSplit, TranslationThreshold = 32 },
        "hybrid-hot-threshold" => new MachineConfig { Engine = EngineKind.Hybrid, HybridPolicy = HybridPolicy.HotThreshold, HotThreshold = 16 },
        "hybrid-trap-and-emulate" => new MachineConfig { Engine = EngineKind.Hybrid, HybridPolicy = HybridPolicy.TrapAndEmulate },
        _ => throw new ArgumentException($"unknown engine configuration {engine}"),
    };
}
