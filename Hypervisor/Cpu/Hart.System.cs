using Hypervisor.Isa;

namespace Hypervisor.Cpu;

/// <summary>What an engine must do after a system-instruction callout.</summary>
public enum SystemOutcome
{
    /// <summary>Carry on at <see cref="HartState.Pc"/> (the next instruction or a trap handler).</summary>
    Continue,

    /// <summary>WFI with nothing pending: the vCPU parks until an interrupt or an event.</summary>
    Idle,

    /// <summary>FENCE.I: drop pre-decoded and translated code, then carry on.</summary>
    FlushCode,
}

public sealed partial class Hart
{
    /// <summary>
    /// Emulates a system instruction (the monitor's callout): CSR access, ECALL, EBREAK, MRET,
    /// SRET, WFI, SFENCE.VMA, FENCE.I, or an illegal instruction. On entry <see cref="HartState.Pc"/>
    /// is the instruction's address; on return it is where execution continues.
    /// </summary>
    public SystemOutcome ExecuteSystem(in Instruction i)
    {
        HartState s = State;
        uint pc = s.Pc;
        switch (i.Op)
        {
            case Opcode.Csrrw:
            case Opcode.Csrrs:
            case Opcode.Csrrc:
            case Opcode.Csrrwi:
            case Opcode.Csrrsi:
            case Opcode.Csrrci:
                ExecuteCsr(i);
                return SystemOutcome.Continue;

            case Opcode.Ecall:
                RaiseException(s.Privilege switch
                {
                    Privilege.User => ExceptionCause.EcallFromU,
                    Privilege.Supervisor => ExceptionCause.EcallFromS,
                    _ => ExceptionCause.EcallFromM,
                }, 0);
                return SystemOutcome.Continue;

            case Opcode.Ebreak:
                // mtval may be 0 or the pc for a breakpoint; QEMU 7.2 writes 0, and so do we.
                RaiseException(ExceptionCause.Breakpoint, 0);
                return SystemOutcome.Continue;

            case Opcode.Mret:
                if (s.Privilege != Privilege.Machine)
                {
                    break;
                }
                Mret();
                Profile?.Record(pc, s.Pc);
                return SystemOutcome.Continue;

            case Opcode.Sret:
                if (s.Privilege == Privilege.User ||
                    (s.Privilege == Privilege.Supervisor && (s.Mstatus & Mstatus.Tsr) != 0))
                {
                    break;
                }
                Sret();
                Profile?.Record(pc, s.Pc);
                return SystemOutcome.Continue;

            case Opcode.Wfi:
                if (s.Privilege == Privilege.User ||
                    (s.Privilege == Privilege.Supervisor && (s.Mstatus & Mstatus.Tw) != 0))
                {
                    break;
                }
                s.Pc = pc + 4;
                // WFI wakes on any interrupt pending in mie, whatever the global enables say.
                return (s.Mip & s.Mie) == 0 ? SystemOutcome.Idle : SystemOutcome.Continue;

            case Opcode.SfenceVma:
                if (s.Privilege == Privilege.User ||
                    (s.Privilege == Privilege.Supervisor && (s.Mstatus & Mstatus.Tvm) != 0))
                {
                    break;
                }
                Mmu.Fence(i.Rs1 != 0 ? s.X[i.Rs1] : null, i.Rs2 != 0 ? (ushort)(s.X[i.Rs2] & 0x1FF) : null);
                s.Pc = pc + 4;
                return SystemOutcome.Continue;

            case Opcode.FenceI:
                s.Pc = pc + 4;
                return SystemOutcome.FlushCode;

            case Opcode.Illegal:
                if (Patches is not null && Patches.TryExecutePatched())
                {
                    return SystemOutcome.Continue;
                }
                break;
        }
        RaiseException(ExceptionCause.IllegalInstruction, i.Raw);
        return SystemOutcome.Continue;
    }

    private void ExecuteCsr(in Instruction i)
    {
        HartState s = State;
        bool immediate = i.Op >= Opcode.Csrrwi;
        uint source = immediate ? i.Rs1 : s.X[i.Rs1];
        bool isSwap = i.Op is Opcode.Csrrw or Opcode.Csrrwi;
        bool writes = isSwap || i.Rs1 != 0;
        int csr = i.Csr;
        if (!CsrAccessAllowed(csr, writes))
        {
            RaiseException(ExceptionCause.IllegalInstruction, i.Raw);
            return;
        }
        uint old = ReadCsr(csr);
        if (writes)
        {
            // mip.SEIP reads as the software bit OR the PLIC's line, but only the software bit takes
            // part in a read-modify-write (privileged spec 3.1.9), or the line would get latched.
            uint basis = csr is CsrAddress.Mip or CsrAddress.Sip
                ? (old & ~InterruptBits.Seip) | (s.MipSoftware & InterruptBits.Seip & (csr == CsrAddress.Sip ? s.Mideleg : ~0u))
                : old;
            uint value = i.Op switch
            {
                Opcode.Csrrw or Opcode.Csrrwi => source,
                Opcode.Csrrs or Opcode.Csrrsi => basis | source,
                _ => basis & ~source,
            };
            WriteCsr(csr, value);
        }
        if (i.Rd != 0)
        {
            s.X[i.Rd] = old;
        }
        s.Pc += 4;
    }
}
