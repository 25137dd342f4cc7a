namespace Hypervisor.Devices;

/// <summary>An interrupt controller input: devices drive their line through it, never the hart directly.</summary>
public interface IInterruptSink
{
    /// <summary>Drives interrupt source <paramref name="source"/> to <paramref name="level"/> (level-triggered).</summary>
    void SetLine(int source, bool level);
}
