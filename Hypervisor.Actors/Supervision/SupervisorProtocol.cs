using Hypervisor.Actors.Vm;

namespace Hypervisor.Actors.Supervision;

// The messages the HypervisorSupervisor understands, from the CLI, tests, the monitor and its children.

/// <summary>Where a VM is, as the supervisor's run queue sees it.</summary>
public enum VmPhase
{
    /// <summary>In the run queue, waiting for a slice.</summary>
    Ready,
    Running,

    /// <summary>Idle in WFI until the fleet's virtual time (or the host clock) reaches its next event, or an interrupt.</summary>
    Parked,

    /// <summary>Waiting for its device actors to publish events past its clock.</summary>
    Blocked,
    Paused,

    /// <summary>Used its cap of host CPU in this accounting period.</summary>
    Throttled,

    /// <summary>Idle in WFI with nothing that can wake it (only console input or a device could).</summary>
    HaltedIdle,
    PoweredOff,
    Faulted,

    /// <summary>Its engine threw a host exception; stopped by supervision.</summary>
    Crashed,

    /// <summary>Stopped by a request (StopVm, StopFleet, Ctrl-C, stop-after).</summary>
    Stopped,
}

/// <summary>One VM's line in the live table and the summary.</summary>
public sealed record VmStatus(string Name, VmPhase Phase, int Weight, int CapPercent, VmStats Stats, string? Error)
{
    public bool Finished => Phase is VmPhase.PoweredOff or VmPhase.Faulted or VmPhase.Crashed or VmPhase.Stopped or VmPhase.HaltedIdle;

    /// <summary>The VM's exit code, as <c>hv run guest.elf</c> would give it.</summary>
    public int ExitCode => Phase switch
    {
        VmPhase.PoweredOff => Stats.ExitCode is 0 or null ? 0 : (Stats.ExitCode.Value & 0xFF) == 0 ? 1 : Stats.ExitCode.Value & 0xFF,
        VmPhase.Faulted => Machine.ExitCodes.GuestFault,
        VmPhase.HaltedIdle => Machine.ExitCodes.HaltedIdle,
        VmPhase.Crashed => FleetExitCodes.HostException,
        _ => Machine.ExitCodes.Interrupted,
    };
}

/// <summary>Exit codes of a fleet run beyond the single-guest ones.</summary>
public static class FleetExitCodes
{
    /// <summary>A VM's engine threw a host exception (EX_SOFTWARE).</summary>
    public const int HostException = 70;

    /// <summary>The fleet's process exit code when some VM did not pass.</summary>
    public const int SomeVmFailed = 1;
}

/// <summary>A snapshot of the fleet (answer to <see cref="GetFleetStatus"/>).</summary>
public sealed record FleetStatus(IReadOnlyList<VmStatus> Vms, ulong FleetTime, int SlicesInFlight, long SlicesGranted, double WallSeconds, bool Done);

/// <summary>Answered with <see cref="FleetStatus"/>.</summary>
public sealed record GetFleetStatus
{
    public static readonly GetFleetStatus Instance = new();
}

/// <summary>Answered with <see cref="FleetCompleted"/> once every VM has ended (at once if they have).</summary>
public sealed record WaitForFleet
{
    public static readonly WaitForFleet Instance = new();
}

/// <summary>
/// The fleet is done: every VM powered off, faulted, crashed, halted or was stopped.
/// <paramref name="Interrupted"/>: it was stopped (<paramref name="StopReason"/> says why; <paramref name="TimeLimit"/> when by stop-after).
/// </summary>
public sealed record FleetCompleted(FleetStatus Status, bool Interrupted, string? StopReason = null, bool TimeLimit = false);

/// <summary>Stop every VM (Ctrl-C, a time limit); the fleet then completes with the VMs' state.</summary>
public sealed record StopFleet(string Reason, bool TimeLimit = false);

public sealed record PauseVm(string Vm);

public sealed record ResumeVm(string Vm);

public sealed record ResetVm(string Vm);

public sealed record StopVm(string Vm);

/// <summary>A device actor promises it has published every event of its VM before <paramref name="Until"/> (ticks).</summary>
public sealed record SourceHorizon(string Vm, int Source, ulong Until);

/// <summary>The supervisor asks a device actor to publish its VM's events up to <paramref name="Until"/> (ticks).</summary>
public sealed record DemandEvents(string Vm, ulong Until);

/// <summary>A VM actor stopped by supervision after a host exception (sent by the strategy to the supervisor itself).</summary>
public sealed record VmCrashed(string Vm, VmStats Stats, string Error);

/// <summary>The timer actor's wake-up of a parked realtime VM.</summary>
public sealed record WakeDue(int VmId, long Generation);

/// <summary>Start of a cap accounting period (internal timer).</summary>
public sealed record CapPeriodTick
{
    public static readonly CapPeriodTick Instance = new();
}
