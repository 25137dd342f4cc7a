namespace Hypervisor.Profiling;

/// <summary>An engine that can record control flow itself (profiling by instrumentation).</summary>
public interface IProfilingEngine
{
    /// <summary>The profile every branch and jump the engine executes is recorded in; null = not profiling.</summary>
    ControlFlowProfile? Profile { get; set; }
}
