using Hypervisor.Memory;

namespace Hypervisor.Devices;

/// <summary>What the guest asked the finisher for.</summary>
public enum FinisherRequest
{
    Pass,
    Fail,
    Reset,
}

/// <summary>SiFive test finisher ("sifive,test0"), the power-off device of QEMU's virt machine.</summary>
/// <remarks>
/// Register map (base 0x0010_0000, size 0x1000):
///   +0x0  W  0x5555 = pass (power off, exit 0); (code &lt;&lt; 16) | 0x3333 = fail with code; 0x7777 = reset.
///            Other values are ignored. Reads return 0. 16- and 32-bit accesses only.
/// </remarks>
public sealed class TestFinisher : IMmioDevice
{
    public const uint DefaultBase = 0x0010_0000;

    private readonly Action<FinisherRequest, int> _onRequest;

    public TestFinisher(Action<FinisherRequest, int> onRequest) => _onRequest = onRequest;

    public string Name => "finisher";

    public uint Size => 0x1000;

    public bool Read(uint offset, int size, out uint value)
    {
        value = 0;
        return size is 2 or 4 && (offset & (uint)(size - 1)) == 0;
    }

    public bool Write(uint offset, int size, uint value)
    {
        if (size is not (2 or 4) || (offset & (uint)(size - 1)) != 0)
        {
            return false;
        }
        if (offset != 0)
        {
            return true;
        }
        switch (value & 0xFFFF)
        {
            case 0x5555: _onRequest(FinisherRequest.Pass, 0); break;
            case 0x3333: _onRequest(FinisherRequest.Fail, (int)(value >> 16)); break;
            case 0x7777: _onRequest(FinisherRequest.Reset, 0); break;
        }
        return true;
    }
}
