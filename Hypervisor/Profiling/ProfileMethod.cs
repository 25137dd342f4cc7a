namespace Hypervisor.Profiling;

/// <summary>How control flow is observed for profiling and coverage.</summary>
public enum ProfileMethod
{
    /// <summary>
    /// Binary patching: the monitor replaces every control-flow instruction of the guest image with a
    /// trapping word and records each hit in a callout before executing the original. Works on every
    /// engine; the guest cannot tell (loads of patched words return the original bytes).
    /// </summary>
    Patch,

    /// <summary>Instrumentation by the engines: translated code and the interpreter loops count edges themselves.</summary>
    Translate,
}
