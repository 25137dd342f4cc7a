namespace Hypervisor.Cpu;

/// <summary>A fatal guest fault: the report a stopped VM carries (pc, cause, registers).</summary>
public sealed record GuestFaultReport(
    string Message,
    uint Pc,
    uint Cause,
    uint Tval,
    Privilege Privilege,
    uint[] Registers,
    ulong Instret)
{
    public override string ToString()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append($"{Message}: pc=0x{Pc:x8} cause={Cause} ({CauseName(Cause)}) tval=0x{Tval:x8} mode={Privilege} instret={Instret}");
        for (int i = 1; i < 32; i++)
        {
            sb.Append(i % 8 == 1 ? "\n  " : " ");
            sb.Append($"{Isa.Disassembler.RegisterName(i)}=0x{Registers[i]:x8}");
        }
        return sb.ToString();
    }

    public static string CauseName(uint cause) =>
        (cause & InterruptBits.CauseInterruptFlag) != 0
            ? $"interrupt {cause & 0x7FFFFFFF}"
            : Enum.IsDefined(typeof(ExceptionCause), cause) ? ((ExceptionCause)cause).ToString() : "reserved";
}

public sealed partial class Hart
{
    private uint _lastTrapTarget = uint.MaxValue;
    private ulong _instretAtLastTrap;

    /// <summary>
    /// Raises a synchronous exception for the instruction at <see cref="HartState.Pc"/>: the
    /// instruction does not retire and the hart enters the handler.
    /// </summary>
    /// <remarks>
    /// A handler whose first instruction faults again before anything retired would loop forever
    /// (think mtvec = 0 and a guest that jumped into nowhere); that is reported as a fatal guest
    /// fault and the vCPU stops, instead of burning its slices.
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public void RaiseException(ExceptionCause cause, uint tval)
    {
        HartState s = State;
        ulong retired = s.Instret;
        s.ExceptionCount++;
        ExceptionsRaised[(int)cause & 15]++;
        if (s.Pc == _lastTrapTarget && retired == _instretAtLastTrap)
        {
            Fault = new GuestFaultReport(
                $"trap loop: the trap handler's first instruction faults (the handler was entered for {GuestFaultReport.CauseName(_lastExceptionCause)} " +
                $"at pc=0x{_lastExceptionPc:x8}, tval=0x{_lastExceptionTval:x8})",
                s.Pc, (uint)cause, tval, s.Privilege, (uint[])s.X.Clone(), retired);
            RequestStop(StopReason.GuestFault);
            return;
        }
        if (IsWithoutProgress(cause, tval))
        {
            Fault = new GuestFaultReport(
                $"no progress: the same exception at the same pc with the same registers {RepeatLimit:N0} times in a row (a trap handler that faults again, e.g. with its stack outside RAM)",
                s.Pc, (uint)cause, tval, s.Privilege, (uint[])s.X.Clone(), retired);
            RequestStop(StopReason.GuestFault);
            return;
        }
        _lastExceptionCause = (uint)cause;
        _lastExceptionPc = s.Pc;
        _lastExceptionTval = tval;
        EnterTrap((uint)cause, tval, s.Pc);
        _instretAtLastTrap = retired;
    }

    /// <summary>Repeats of one fault, with nothing changed in the registers, after which the guest is stopped.</summary>
    public const int RepeatLimit = 1_000_000;

    private uint _lastExceptionCause, _lastExceptionPc, _lastExceptionTval;
    private readonly uint[] _repeatRegisters = new uint[32];
    private int _repeats;

    /// <summary>
    /// True when this fault is the same as the last one (cause, pc, tval) with every register
    /// unchanged, for the <see cref="RepeatLimit"/>th time in a row: a handler that faults later
    /// than its first instruction (say, storing to a stack outside RAM) loops forever without a
    /// trace. ECALL and EBREAK never count: an idle loop may call the kernel with the same registers.
    /// </summary>
    private bool IsWithoutProgress(ExceptionCause cause, uint tval)
    {
        if (cause is ExceptionCause.Breakpoint or ExceptionCause.EcallFromU or ExceptionCause.EcallFromS or ExceptionCause.EcallFromM)
        {
            return false;
        }
        HartState s = State;
        if ((uint)cause == _lastExceptionCause && s.Pc == _lastExceptionPc && tval == _lastExceptionTval &&
            s.X.AsSpan(0, 32).SequenceEqual(_repeatRegisters))
        {
            return ++_repeats >= RepeatLimit;
        }
        s.X.AsSpan(0, 32).CopyTo(_repeatRegisters);
        _repeats = 0;
        return false;
    }

    /// <summary>Enters the trap handler for <paramref name="cause"/> (interrupt flag included), applying delegation.</summary>
    private void EnterTrap(uint cause, uint tval, uint epc)
    {
        HartState s = State;
        bool interrupt = (cause & InterruptBits.CauseInterruptFlag) != 0;
        int code = (int)(cause & 31);
        uint delegation = interrupt ? s.Mideleg : s.Medeleg;
        Privilege from = s.Privilege;
        uint tvec;
        if (from != Privilege.Machine && ((delegation >> code) & 1) != 0)
        {
            s.Scause = cause;
            s.Sepc = epc;
            s.Stval = tval;
            uint m = s.Mstatus & ~(Mstatus.Spp | Mstatus.Spie | Mstatus.Sie);
            if (from == Privilege.Supervisor)
            {
                m |= Mstatus.Spp;
            }
            if ((s.Mstatus & Mstatus.Sie) != 0)
            {
                m |= Mstatus.Spie;
            }
            s.Mstatus = m;
            s.Privilege = Privilege.Supervisor;
            tvec = s.Stvec;
        }
        else
        {
            s.Mcause = cause;
            s.Mepc = epc;
            s.Mtval = tval;
            uint m = s.Mstatus & ~(Mstatus.Mpp | Mstatus.Mpie | Mstatus.Mie);
            m |= (uint)from << Mstatus.MppShift;
            if ((s.Mstatus & Mstatus.Mie) != 0)
            {
                m |= Mstatus.Mpie;
            }
            s.Mstatus = m;
            s.Privilege = Privilege.Machine;
            tvec = s.Mtvec;
        }
        uint target = tvec & ~3u;
        if ((tvec & 3) == 1 && interrupt)
        {
            target += 4 * (uint)code;
        }
        s.Pc = target;
        Profile?.Record(epc, target);
        _lastTrapTarget = interrupt ? uint.MaxValue : target;
        OnModeChanged();
        TrapTaken?.Invoke(cause, s.Privilege);
    }

    /// <summary>MRET: returns to mstatus.MPP at mepc.</summary>
    private void Mret()
    {
        HartState s = State;
        var target = (Privilege)((s.Mstatus >> Mstatus.MppShift) & 3);
        uint m = s.Mstatus & ~(Mstatus.Mie | Mstatus.Mpp);
        if ((s.Mstatus & Mstatus.Mpie) != 0)
        {
            m |= Mstatus.Mie;
        }
        m |= Mstatus.Mpie;
        if (target != Privilege.Machine)
        {
            m &= ~Mstatus.Mprv;
        }
        s.Mstatus = m;
        s.Privilege = target;
        s.Pc = s.Mepc;
        OnModeChanged();
    }

    /// <summary>SRET: returns to sstatus.SPP at sepc.</summary>
    private void Sret()
    {
        HartState s = State;
        Privilege target = (s.Mstatus & Mstatus.Spp) != 0 ? Privilege.Supervisor : Privilege.User;
        uint m = s.Mstatus & ~(Mstatus.Sie | Mstatus.Spp | Mstatus.Mprv);
        if ((s.Mstatus & Mstatus.Spie) != 0)
        {
            m |= Mstatus.Sie;
        }
        m |= Mstatus.Spie;
        s.Mstatus = m;
        s.Privilege = target;
        s.Pc = s.Sepc;
        OnModeChanged();
    }
}
