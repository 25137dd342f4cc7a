using Hypervisor.Cpu;
using Hypervisor.Isa;
using Hypervisor.Memory;

namespace Hypervisor.Engines;

/// <summary>LR.W, SC.W and the AMOs, shared by every engine (they are rare enough not to need inlining).</summary>
public static class Atomics
{
    /// <summary>Executes an atomic; false means the MMU's fault must be raised.</summary>
    public static bool Execute(HartState s, Mmu mmu, in Instruction i)
    {
        uint va = s.X[i.Rs1];
        if (i.Op == Opcode.LrW)
        {
            if (!mmu.TranslateAtomic(va, true, out uint lpa) || !mmu.PhysicalRead(lpa, va, AccessType.Load, out uint loaded))
            {
                return false;
            }
            s.ReservationValid = true;
            s.ReservationAddress = lpa;
            if (i.Rd != 0)
            {
                s.X[i.Rd] = loaded;
            }
            return true;
        }
        if (!mmu.TranslateAtomic(va, false, out uint pa))
        {
            return false;
        }
        uint src = s.X[i.Rs2];
        if (i.Op == Opcode.ScW)
        {
            bool ok = s.ReservationValid && s.ReservationAddress == pa;
            s.ReservationValid = false;
            if (ok && !mmu.PhysicalWrite(pa, va, src))
            {
                return false;
            }
            if (i.Rd != 0)
            {
                s.X[i.Rd] = ok ? 0u : 1u;
            }
            return true;
        }
        if (!mmu.PhysicalRead(pa, va, AccessType.Store, out uint old))
        {
            return false;
        }
        uint result = i.Op switch
        {
            Opcode.AmoswapW => src,
            Opcode.AmoaddW => old + src,
            Opcode.AmoxorW => old ^ src,
            Opcode.AmoandW => old & src,
            Opcode.AmoorW => old | src,
            Opcode.AmominW => (int)old < (int)src ? old : src,
            Opcode.AmomaxW => (int)old > (int)src ? old : src,
            Opcode.AmominuW => old < src ? old : src,
            _ => old > src ? old : src,
        };
        if (!mmu.PhysicalWrite(pa, va, result))
        {
            return false;
        }
        if (i.Rd != 0)
        {
            s.X[i.Rd] = old;
        }
        return true;
    }
}
