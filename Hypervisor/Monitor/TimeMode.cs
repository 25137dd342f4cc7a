namespace Hypervisor.Monitor;

/// <summary>How a VM's mtime advances (DESIGN.md §3).</summary>
public enum TimeMode
{
    /// <summary>mtime follows executed instructions (plus idle time skipped in WFI): deterministic.</summary>
    Virtual,

    /// <summary>mtime follows the host's monotonic clock, scaled: nondeterministic by nature.</summary>
    Realtime,
}
