namespace Hypervisor.Actors.Timers;

/// <summary>Wake parked realtime VM <paramref name="VmId"/> after <paramref name="Delay"/> of host time (answered with a WakeDue to the supervisor).</summary>
public sealed record ArmWake(int VmId, long Generation, TimeSpan Delay);
