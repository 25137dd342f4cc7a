using Hypervisor.Memory;
using Hypervisor.Monitor;

namespace Hypervisor.Cpu;

/// <summary>Device-side view of a hart's interrupt inputs (mip bits driven by hardware).</summary>
public interface IInterruptTarget
{
    /// <summary>Drives the hardware mip bit <paramref name="mipBit"/> (e.g. <see cref="InterruptBits.Mtip"/>) to <paramref name="level"/>.</summary>
    void SetPending(uint mipBit, bool level);
}

/// <summary>The monitor's table of patched instructions (binary-patching profiler).</summary>
public interface IPatchedInstructions
{
    /// <summary>
    /// If the word at <see cref="HartState.Pc"/> is a patch, records the hit, executes the original
    /// instruction (leaving pc where it continues) and returns true; false means a genuinely illegal instruction.
    /// </summary>
    bool TryExecutePatched();
}

/// <summary>Why a vCPU stopped running.</summary>
public enum StopReason
{
    /// <summary>The instruction budget of the slice is spent.</summary>
    BudgetExhausted,

    /// <summary>WFI with nothing pending: parked until an interrupt or the next event.</summary>
    Idle,

    /// <summary>The guest powered off (finisher or HTIF); see the exit code.</summary>
    PowerOff,

    /// <summary>A fatal guest fault (a trap loop nothing can leave); see the fault report.</summary>
    GuestFault,

    /// <summary>The slice reached its virtual-time horizon.</summary>
    HorizonReached,

    /// <summary>The host asked the vCPU to stop (pause, shutdown, a debugger-style request).</summary>
    Stopped,
}

/// <summary>
/// One virtual hart: its architectural state plus the monitor routines that emulate the system ISA
/// on it — CSRs, traps, interrupts, xRET, WFI, SFENCE.VMA. Engines run the user ISA themselves and
/// call these routines (callouts) for everything privileged.
/// </summary>
public sealed partial class Hart : IInterruptTarget
{
    public const int AttentionInterrupt = 1;
    public const int AttentionStop = 2;

    /// <summary>A store invalidated translated code: a translated block must stop before running stale instructions.</summary>
    public const int AttentionCodeChanged = 4;

    /// <summary>An event was scheduled before the end of the running chunk: the engine must stop and re-cut the chunk.</summary>
    public const int AttentionEventsChanged = 8;

    public Hart(HartState state, Mmu mmu, VirtualClock clock, EventScheduler events)
    {
        State = state;
        Mmu = mmu;
        Clock = clock;
        Events = events;
        events.NextDueLowered = () => Attention |= AttentionEventsChanged;
    }

    public HartState State { get; }

    public Mmu Mmu { get; }

    public VirtualClock Clock { get; }

    public EventScheduler Events { get; }

    /// <summary>Nonzero when an engine must leave its fast loop: a deliverable interrupt or a stop request.</summary>
    /// <remarks>A plain field: engines poll it after every instruction (interpreter) or block (translator).</remarks>
    public int Attention;

    /// <summary>Why the vCPU must stop, when <see cref="AttentionStop"/> is set.</summary>
    public StopReason PendingStop { get; private set; }

    /// <summary>The fatal fault, when the vCPU stopped with <see cref="StopReason.GuestFault"/>.</summary>
    public GuestFaultReport? Fault { get; private set; }

    /// <summary>Interrupts taken since reset, by mcause code (0..15).</summary>
    public readonly long[] InterruptsTaken = new long[16];

    /// <summary>Exceptions raised since reset, by cause (0..15).</summary>
    public readonly long[] ExceptionsRaised = new long[16];

    /// <summary>Raised after the hart entered a trap handler (cause with the interrupt bit, and the mode it went to).</summary>
    public event Action<uint, Privilege>? TrapTaken;

    /// <summary>When profiling, the edges the hart's own transfers (traps, interrupts, xRET) add to.</summary>
    public Profiling.ControlFlowProfile? Profile { get; set; }

    /// <summary>When binary patching is on: executes a patched control-flow instruction found at an illegal-looking word.</summary>
    public IPatchedInstructions? Patches { get; set; }

    /// <summary>Asks the engine to stop at the next instruction boundary.</summary>
    public void RequestStop(StopReason reason)
    {
        PendingStop = reason;
        Attention |= AttentionStop;
    }

    /// <summary>Clears a stop request once the engine has acted on it.</summary>
    public StopReason ConsumeStop()
    {
        Attention &= ~AttentionStop;
        return PendingStop;
    }

    public void SetPending(uint mipBit, bool level)
    {
        uint before = State.MipHardware;
        State.MipHardware = level ? before | mipBit : before & ~mipBit;
        if (State.MipHardware != before)
        {
            UpdateInterruptAttention();
        }
    }

    /// <summary>The interrupts that would be taken now: pending, enabled in mie, and enabled for the current privilege.</summary>
    public uint DeliverableInterrupts()
    {
        HartState s = State;
        uint pending = s.Mip & s.Mie;
        if (pending == 0)
        {
            return 0;
        }
        Privilege p = s.Privilege;
        bool machineEnabled = p != Privilege.Machine || (s.Mstatus & Cpu.Mstatus.Mie) != 0;
        bool supervisorEnabled = p == Privilege.User || (p == Privilege.Supervisor && (s.Mstatus & Cpu.Mstatus.Sie) != 0);
        uint result = 0;
        if (machineEnabled)
        {
            result |= pending & ~s.Mideleg;
        }
        if (supervisorEnabled)
        {
            result |= pending & s.Mideleg;
        }
        return result;
    }

    /// <summary>Recomputes the interrupt part of <see cref="Attention"/> after mip, mie, mideleg, mstatus or the privilege changed.</summary>
    public void UpdateInterruptAttention()
    {
        if (DeliverableInterrupts() != 0)
        {
            Attention |= AttentionInterrupt;
        }
        else
        {
            Attention &= ~AttentionInterrupt;
        }
    }

    /// <summary>Takes the highest-priority deliverable interrupt at <see cref="HartState.Pc"/>; false if none.</summary>
    public bool TryTakeInterrupt()
    {
        uint deliverable = DeliverableInterrupts();
        if (deliverable == 0)
        {
            Attention &= ~AttentionInterrupt;
            return false;
        }
        // Interrupts for M-mode go first, then those for S-mode, each in the spec's order.
        uint toMachine = deliverable & ~State.Mideleg;
        uint set = toMachine != 0 ? toMachine : deliverable;
        foreach (byte code in InterruptBits.PriorityOrder)
        {
            if ((set & (1u << code)) != 0)
            {
                InterruptsTaken[code]++;
                EnterTrap(InterruptBits.CauseInterruptFlag | code, 0, State.Pc);
                return true;
            }
        }
        return false;
    }

    /// <summary>Re-derives everything cached from privilege and mstatus (TLB sets, interrupt attention).</summary>
    private void OnModeChanged()
    {
        Mmu.UpdateModes();
        UpdateInterruptAttention();
    }

    /// <summary>Called after a snapshot restore or reset: rebuild every cache of the architectural state.</summary>
    public void Resynchronize()
    {
        Mmu.Pmp.Recompute();
        Mmu.FlushAll();
        OnModeChanged();
        Fault = null;
        Attention &= ~AttentionStop;
        _lastTrapTarget = uint.MaxValue;
        _repeats = 0;
    }
}
