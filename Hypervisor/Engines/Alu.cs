namespace Hypervisor.Engines;

/// <summary>The M extension's divisions with RISC-V's defined results for division by zero and overflow.</summary>
/// <remarks>.NET throws on both cases; RISC-V defines them (unprivileged spec, M chapter), so every engine calls these.</remarks>
public static class Alu
{
    public static uint Div(uint a, uint b)
    {
        if (b == 0)
        {
            return uint.MaxValue;
        }
        if (a == 0x8000_0000 && b == uint.MaxValue)
        {
            return a;
        }
        return (uint)((int)a / (int)b);
    }

    public static uint Divu(uint a, uint b) => b == 0 ? uint.MaxValue : a / b;

    public static uint Rem(uint a, uint b)
    {
        if (b == 0)
        {
            return a;
        }
        if (a == 0x8000_0000 && b == uint.MaxValue)
        {
            return 0;
        }
        return (uint)((int)a % (int)b);
    }

    public static uint Remu(uint a, uint b) => b == 0 ? a : a % b;
}
