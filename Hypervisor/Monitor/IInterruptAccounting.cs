namespace Hypervisor.Monitor;

/// <summary>
/// A VM's interrupt accounting as telemetry reads it: cumulative counts since the VM was built and
/// the raise-to-handler latency histograms. The interrupt-storm work (issue 7) implements it where
/// it counts; <c>Hypervisor.Actors.Telemetry.VmTelemetry</c> reads it once per slice, on the VM's
/// own thread, and exports the differences (docs/telemetry.md).
/// </summary>
/// <remarks>
/// Definitions (docs/telemetry.md): <c>Raised</c> counts rising edges a device asked for;
/// <c>Delivered</c> those the guest's handler took; <c>Coalesced</c> raises merged into one still
/// pending (level-triggered lines); <c>Deferred</c> raises moved later by the VM's interrupt-rate
/// limit; <c>Lost</c> raises that vanished (must stay 0).
/// </remarks>
public interface IInterruptAccounting
{
    long Raised { get; }

    long Delivered { get; }

    long Coalesced { get; }

    long Deferred { get; }

    long Lost { get; }

    /// <summary>Latency from raise to the handler's first instruction in the guest's virtual time (nanoseconds of virtual time).</summary>
    LatencyHistogram VirtualLatency { get; }

    /// <summary>The same latency in host time (nanoseconds).</summary>
    LatencyHistogram HostLatency { get; }
}
