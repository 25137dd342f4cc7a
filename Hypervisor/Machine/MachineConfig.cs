using Hypervisor.Engines.Hybrid;
using Hypervisor.Monitor;

namespace Hypervisor.Machine;

/// <summary>Which engine runs a VM's vCPU.</summary>
public enum EngineKind
{
    Interpreter,
    BinaryTranslator,
    Hybrid,
}

/// <summary>Everything needed to build one guest machine.</summary>
public sealed record MachineConfig
{
    public const uint DefaultMemory = 128u << 20;
    public const uint MinimumMemory = 64u << 10;
    public const uint MaximumMemory = 2048u << 20;

    /// <summary>RAM size in bytes (multiple of 64 KiB, 64 KiB .. 2 GiB); RAM starts at 0x8000_0000.</summary>
    public uint MemorySize { get; init; } = DefaultMemory;

    /// <summary>Most RAM bytes the VM may actually allocate (resident); null = its whole memory.</summary>
    public long? MemoryQuota { get; init; }

    public EngineKind Engine { get; init; } = EngineKind.Interpreter;

    /// <summary>
    /// Times the binary translator reaches a block's entry before it compiles the block; null = the
    /// engine's default. The lockstep fuzzer sets 1 so that every block it runs is translated.
    /// </summary>
    public int? TranslationThreshold { get; init; }

    /// <summary>
    /// Compile hot blocks on a background thread and interpret them until they are ready, instead
    /// of compiling them on the VM's thread when they become hot (the default: deterministic
    /// tiering, which the lockstep fuzzer wants). Guest-visible results are the same either way.
    /// </summary>
    public bool BackgroundCompilation { get; init; }

    /// <summary>Most blocks the binary translator's cache holds before it is flushed whole (QEMU's code buffer size, in blocks).</summary>
    public int TranslationCacheCapacity { get; init; } = Engines.Translation.TranslationCache.DefaultCapacity;

    /// <summary>How the hybrid engine divides the work (only for <see cref="EngineKind.Hybrid"/>).</summary>
    public HybridPolicy HybridPolicy { get; init; } = HybridPolicy.ModeSplit;

    /// <summary>The hybrid's hot-threshold policy: executions of a block before it is translated.</summary>
    public int HotThreshold { get; init; } = HybridEngine.DefaultHotThreshold;

    public TimeMode TimeMode { get; init; } = TimeMode.Virtual;

    /// <summary>Executed instructions per 10 MHz timer tick in virtual time.</summary>
    public uint InstructionsPerTick { get; init; } = 10;

    /// <summary>Host-to-guest time factor in realtime mode.</summary>
    public double RealtimeScale { get; init; } = 1.0;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (MemorySize < MinimumMemory || MemorySize > MaximumMemory || MemorySize % MinimumMemory != 0)
        {
            throw new ArgumentException(
                $"memory must be a multiple of 64 KiB between 64 KiB and 2 GiB (got {MemorySize} bytes)");
        }
        if (MemoryQuota is long q && q < MinimumMemory)
        {
            throw new ArgumentException($"memory quota must be at least 64 KiB (got {q} bytes)");
        }
        if (TranslationThreshold is int t && t < 1)
        {
            throw new ArgumentException($"translation threshold must be at least 1 (got {t})");
        }
        if (TranslationCacheCapacity < 1)
        {
            throw new ArgumentException($"translation cache capacity must be at least 1 block (got {TranslationCacheCapacity})");
        }
        if (HotThreshold < 1)
        {
            throw new ArgumentException($"hot threshold must be at least 1 (got {HotThreshold})");
        }
        if (InstructionsPerTick == 0)
        {
            throw new ArgumentException("instructions per tick must be at least 1");
        }
        if (RealtimeScale <= 0 || double.IsNaN(RealtimeScale) || double.IsInfinity(RealtimeScale))
        {
            throw new ArgumentException("realtime scale must be a positive number");
        }
    }

    /// <summary>Parses sizes such as 128M, 64MiB, 512K, 1G or a byte count.</summary>
    public static uint ParseSize(string text)
    {
        string t = text.Trim();
        ulong multiplier = 1;
        string upper = t.ToUpperInvariant();
        foreach ((string suffix, ulong m) in new[] { ("KIB", 1UL << 10), ("MIB", 1UL << 20), ("GIB", 1UL << 30), ("KB", 1UL << 10), ("MB", 1UL << 20), ("GB", 1UL << 30), ("K", 1UL << 10), ("M", 1UL << 20), ("G", 1UL << 30), ("B", 1UL) })
        {
            if (upper.EndsWith(suffix, StringComparison.Ordinal))
            {
                multiplier = m;
                t = t[..^suffix.Length].Trim();
                break;
            }
        }
        if (!ulong.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong n))
        {
            throw new FormatException($"'{text}' is not a size (examples: 128M, 64MiB, 512K, 1G)");
        }
        UInt128 bytes = (UInt128)n * multiplier;
        if (bytes > uint.MaxValue)
        {
            throw new FormatException($"'{text}' is larger than the 32-bit physical address space");
        }
        return (uint)bytes;
    }
}
