namespace Hypervisor.Machine;

/// <summary>A part of a VM whose state goes into a snapshot (devices, the clock).</summary>
public interface ISnapshotState
{
    /// <summary>Writes the state, in a fixed order that <see cref="Restore"/> reads back.</summary>
    void Save(BinaryWriter writer);

    /// <summary>Reads the state written by <see cref="Save"/>, replacing the current one.</summary>
    void Restore(BinaryReader reader);
}
