namespace Hypervisor.Memory;

/// <summary>A memory-mapped device: the bus calls it with offsets relative to its base.</summary>
/// <remarks>Returning false makes the access an access fault in the guest, as QEMU's bus does for accesses a device refuses.</remarks>
public interface IMmioDevice
{
    /// <summary>Short name for reports ("uart", "clint").</summary>
    string Name { get; }

    /// <summary>Size of the register window in bytes.</summary>
    uint Size { get; }

    bool Read(uint offset, int size, out uint value);

    bool Write(uint offset, int size, uint value);
}
