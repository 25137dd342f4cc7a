namespace Hypervisor.Actors.Vm;

// The messages a VmActor understands and answers. Immutable, serializable records of plain
// values: a VM actor can become a cluster-sharded entity without changing them.

/// <summary>
/// A time slice: run at most <paramref name="Budget"/> instructions, never execute past virtual
/// time <paramref name="Horizon"/> (what the VM's event sources have published) and let WFI skip
/// idle time at most to <paramref name="IdleHorizon"/> (the fleet's clock plus the lookahead).
/// Times are mtime ticks of the VM's clock (10 MHz); ulong.MaxValue = unbounded.
/// </summary>
public sealed record RunSlice(long Seq, ulong Budget, ulong Horizon, ulong IdleHorizon);

/// <summary>Why a slice ended.</summary>
public enum SliceEnd
{
    BudgetExhausted,
    HorizonReached,

    /// <summary>WFI with nothing pending: parked until <see cref="SliceCompleted.NextEventAt"/> or an interrupt.</summary>
    Idle,
    PowerOff,
    GuestFault,

    /// <summary>The VM did not run: it is paused, stopped or asked to stop.</summary>
    Stopped,
}

/// <summary>
/// The answer to <see cref="RunSlice"/>. <paramref name="NextEventAt"/> is the virtual time (ticks) of
/// the VM's next scheduled event (ulong.MaxValue: none); <paramref name="WakeAfterSeconds"/> is, for a
/// realtime VM idle in WFI, the host time until its timer fires (infinity: nothing will fire).
/// </summary>
public sealed record SliceCompleted(string Vm, long Seq, SliceStats Slice, VmStats Stats, SliceEnd Reason,
    ulong NextEventAt, double WakeAfterSeconds)
{
    /// <summary>
    /// Idle in WFI with nothing outside the guest able to wake it: neither a machine timer with a
    /// deadline nor an external (PLIC) interrupt is enabled in mie. Device events cannot wake it.
    /// </summary>
    public bool NeverWakes { get; init; }
}

/// <summary>What one slice did.</summary>
/// <remarks><paramref name="HostSeconds"/> is wall time; <paramref name="CpuSeconds"/> the VM thread's CPU time in the slice (0 where the platform cannot tell), which the scheduler uses to see what a VM's instructions cost the host.</remarks>
public sealed record SliceStats(ulong Executed, double HostSeconds, long InterruptsTaken, double CpuSeconds = 0);

/// <summary>
/// A VM's cumulative figures: everything the live table, the summary and telemetry show.
/// <c>Storm</c> is the VM's interrupt-generator accounting (raised, delivered, coalesced, deferred,
/// lost, latency; docs/interrupt-generator.md), null until the generator has seen traffic.
/// </summary>
public sealed record VmStats(
    string Name,
    string Engine,
    string TimeMode,
    ulong Instret,
    ulong Executed,
    ulong Cycle,
    ulong VirtualTime,
    long Interrupts,
    long Exceptions,
    long ResidentBytes,
    long QuotaRefusals,
    long Slices,
    double HostSeconds,
    long ConsoleBytes,
    int Resets,
    int? ExitCode,
    string? Fault,
    Hypervisor.Devices.InterruptStats? Storm = null,
    double CpuSeconds = 0)
{
    public static VmStats Empty(string name, string engine, string timeMode) =>
        new(name, engine, timeMode, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, null);

    /// <summary>Guest instructions per host second spent in this VM's slices.</summary>
    public double Mips => HostSeconds > 0 ? Executed / HostSeconds / 1e6 : 0;
}

/// <summary>Raise (or lower) PLIC line <paramref name="Source"/> of <paramref name="Vm"/> at virtual time <paramref name="At"/> (ticks).</summary>
/// <remarks>Applied at the exact instruction boundary where the VM's clock reaches <paramref name="At"/>; never earlier than the VM's present.</remarks>
/// <paramref name="Device"/> is the index of the sending device among the VM's devices (-1: not said), which the monitor's rate limit uses to merge several devices in time order.
public sealed record ScheduleInterrupt(string Vm, int Source, bool Level, ulong At, int Device = -1);

/// <summary>
/// Interrupt-generator traffic for PLIC source <paramref name="Source"/> (32..63) of <paramref name="Vm"/>,
/// from its device <paramref name="Device"/> (index among the VM's devices): runs of arrivals in mtime
/// ticks, in time order, published ahead of the VM's clock. <paramref name="Deferred"/> of their events
/// were moved later by the VM's interrupt-rate limit (the monitor sets it); <paramref name="EndAt"/> is
/// the tick from which the source's traffic is over (ulong.MaxValue: more may follow).
/// </summary>
/// <remarks>Applied by the VM's interrupt generator at the exact instruction where its clock reaches each arrival.</remarks>
public sealed record GeneratorEvents(string Vm, int Device, int Source, Hypervisor.Devices.EventRun[] Runs, long Deferred, ulong EndAt)
{
    /// <summary>The tick of the first arrival (ulong.MaxValue: no runs).</summary>
    public ulong FirstAt => Runs.Length == 0 ? ulong.MaxValue : Runs[0].FirstTime;

    public long Events => Runs.Sum(r => r.Events);
}

/// <summary>Bytes for the VM's UART receiver, applied at its present virtual time (and recorded).</summary>
public sealed record FeedInput(string Vm, byte[] Bytes);

/// <summary>Stops granting slices to the VM until <see cref="Resume"/>; answered with <see cref="VmPaused"/>.</summary>
public sealed record Pause
{
    public static readonly Pause Instance = new();
}

/// <summary>Answered with <see cref="VmResumed"/>.</summary>
public sealed record Resume
{
    public static readonly Resume Instance = new();
}

/// <summary>Power-on reset: reload the image and boot again; answered with <see cref="VmWasReset"/>.</summary>
public sealed record Reset
{
    public static readonly Reset Instance = new();
}

/// <summary>Stop the VM for good; answered with <see cref="VmStopped"/>, then the actor stops.</summary>
public sealed record Stop
{
    public static readonly Stop Instance = new();
}

/// <summary>Asks for <see cref="VmStats"/> without running anything.</summary>
public sealed record GetStats
{
    public static readonly GetStats Instance = new();
}

public sealed record VmPaused(string Vm, VmStats Stats);

public sealed record VmResumed(string Vm);

public sealed record VmWasReset(string Vm, VmStats Stats);

public sealed record VmStopped(string Vm, VmStats Stats);

/// <summary>Console input the VM took, with the virtual time it was applied at (for replay).</summary>
public sealed record InputApplied(string Vm, ulong At, int Bytes);

/// <summary>A host exception escaped the VM's engine; carries the VM's state for the report.</summary>
public sealed class VmHostException(string vm, VmStats stats, Exception inner)
    : Exception($"{vm}: host exception in the engine: {inner.GetType().Name}: {inner.Message}", inner)
{
    public string Vm { get; } = vm;

    public VmStats Stats { get; } = stats;

    /// <summary>What went wrong, without the VM's name (reports put the name in front themselves).</summary>
    public string Problem => $"host exception in the engine: {InnerException!.GetType().Name}: {InnerException.Message}";
}
