using Hypervisor.Cpu;

namespace Hypervisor.Engines;

/// <summary>Runs a vCPU: the one interface the interpreter, the binary translator and the hybrid share.</summary>
/// <remarks>
/// All engines are architecturally identical: after the same budget they leave the same
/// registers, CSRs, memory, device output and counters. Events on the VM's scheduler are applied
/// at the exact cycle they are due, and interrupts are taken between instructions.
/// </remarks>
public interface IExecutionEngine
{
    /// <summary>"interp", "bt" or "hybrid".</summary>
    string Name { get; }

    /// <summary>
    /// Runs at most <paramref name="budget"/> instructions (retired or trapping) and returns why it
    /// stopped: budget spent, WFI with nothing pending, or a stop request (power-off, fatal fault).
    /// </summary>
    StopReason Run(ulong budget);

    /// <summary>Drops every cached decoding or translation (FENCE.I, reset, snapshot restore).</summary>
    void FlushCode();

    /// <summary>Counters that describe what the engine did (instructions by tier, translations, ...).</summary>
    EngineStatistics Statistics { get; }
}

/// <summary>Engine counters, cumulative since the VM was built.</summary>
public sealed class EngineStatistics
{
    public long Slices;
    public long BlocksTranslated;
    public long TranslationTicks;
    public long CacheLookups;
    public long CacheHits;
    public long CacheInvalidations;
    public long CacheEvictions;
    public long Callouts;
    public long InstructionsInterpreted;
    public long InstructionsTranslated;
    public long InstructionsDirect;
    public long TrapsToMonitor;

    public EngineStatistics Clone() => (EngineStatistics)MemberwiseClone();
}
