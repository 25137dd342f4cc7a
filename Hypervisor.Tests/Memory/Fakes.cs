using Hypervisor.Memory;

namespace Hypervisor.Tests.Memory;

/// <summary>Records the stores a bus reports on code pages.</summary>
internal sealed class RecordingCodeObserver : ICodeWriteObserver
{
    public List<(uint Address, int Size)> Writes { get; } = [];

    public void OnCodeWritten(uint physicalAddress, int size) => Writes.Add((physicalAddress, size));
}

/// <summary>A device that records every access and answers reads with a fixed value.</summary>
internal sealed class RecordingDevice(string name, uint size, uint readValue = 0x1234_5678) : IMmioDevice
{
    public List<(string Kind, uint Offset, int Size, uint Value)> Accesses { get; } = [];

    public string Name => name;

    public uint Size => size;

    public bool Read(uint offset, int accessSize, out uint value)
    {
        value = readValue;
        Accesses.Add(("R", offset, accessSize, 0));
        return true;
    }

    public bool Write(uint offset, int accessSize, uint value)
    {
        Accesses.Add(("W", offset, accessSize, value));
        return true;
    }
}
