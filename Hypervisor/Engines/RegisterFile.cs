using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Hypervisor.Engines;

/// <summary>Bounds-check-free view of the 32 integer registers for the interpreter's hot loop.</summary>
/// <remarks>Safe because register numbers come from the decoder, which masks them to 5 bits.</remarks>
internal readonly ref struct RegisterFile
{
    private readonly ref uint _x0;

    public RegisterFile(uint[] registers)
    {
        if (registers.Length < 32)
        {
            throw new ArgumentException("a register file has 32 registers", nameof(registers));
        }
        _x0 = ref MemoryMarshal.GetArrayDataReference(registers);
    }

    public ref uint this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Unsafe.Add(ref _x0, index);
    }
}
