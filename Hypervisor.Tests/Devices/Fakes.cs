using Hypervisor.Cpu;
using Hypervisor.Devices;

namespace Hypervisor.Tests.Devices;

/// <summary>Records what a device does to its interrupt-controller line.</summary>
internal sealed class FakeInterruptSink : IInterruptSink
{
    private readonly Dictionary<int, bool> _levels = [];

    public List<(int Source, bool Level)> Changes { get; } = [];

    public bool Level(int source) => _levels.TryGetValue(source, out bool level) && level;

    public void SetLine(int source, bool level)
    {
        _levels[source] = level;
        Changes.Add((source, level));
    }
}

/// <summary>Records the mip bits devices drive on a hart.</summary>
internal sealed class FakeInterruptTarget : IInterruptTarget
{
    public uint Pending { get; private set; }

    public bool IsSet(uint mipBit) => (Pending & mipBit) != 0;

    public void SetPending(uint mipBit, bool level) => Pending = level ? Pending | mipBit : Pending & ~mipBit;
}
