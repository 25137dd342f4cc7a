using Hypervisor.Actors.Vm;

namespace Hypervisor.Actors.Monitor;

/// <summary>Tells the monitor about a VM it arbitrates (sent by the supervisor at start); <paramref name="Devices"/>: how many device actors publish its events.</summary>
public sealed record RegisterVm(string Vm, long InterruptRateLimit, long? MemoryQuota, int Devices = 0);

/// <summary>A slice's figures, for quota accounting (fire-and-forget from the supervisor).</summary>
public sealed record SliceAccounted(string Vm, VmStats Stats);

/// <summary>The fleet's virtual time moved on (ticks).</summary>
public sealed record FleetTimeAdvanced(ulong FleetTime);

/// <summary>Answered with <see cref="MonitorReport"/>.</summary>
public sealed record GetMonitorReport
{
    public static readonly GetMonitorReport Instance = new();
}

/// <summary>A rule the monitor enforces was hit: the event is also published on the actor system's event stream.</summary>
public sealed record IsolationViolation(string Vm, string Rule, string Detail);

/// <summary>What the monitor has seen: the fleet time, interrupt events deferred by rate limits and violations.</summary>
public sealed record MonitorReport(ulong FleetTime, IReadOnlyDictionary<string, long> DeferredInterrupts, IReadOnlyList<IsolationViolation> Violations);
