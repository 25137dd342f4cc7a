using Hypervisor.Cpu;
using Hypervisor.Monitor;

namespace Hypervisor.Engines;

/// <summary>How a chunk of instructions ended.</summary>
public enum ChunkExit
{
    /// <summary>All n instructions ran.</summary>
    Done,

    /// <summary>Stopped early because <see cref="Hart.Attention"/> became nonzero.</summary>
    Attention,

    /// <summary>WFI with nothing pending.</summary>
    Idle,

    /// <summary>Direct execution reached a privileged or system instruction at pc, not executed: the monitor must emulate it.</summary>
    Trap,

    /// <summary>Direct execution left the page it was running (pc is the new address).</summary>
    PageExit,
}

/// <summary>
/// The run loop every engine shares: take interrupts and stop requests between chunks, apply due
/// events at their exact cycle, and hand the engine chunks that end at the budget or the next event.
/// </summary>
/// <remarks>
/// Keeping this loop in one place is what makes the engines stop at the same instret and take
/// interrupts at the same instruction: an engine only decides how to execute a chunk of exactly
/// n instructions (or fewer, when it must return early).
/// </remarks>
public abstract class ExecutionEngineBase : IExecutionEngine
{
    protected ExecutionEngineBase(Hart hart)
    {
        Hart = hart;
        S = hart.State;
        Events = hart.Events;
    }

    protected Hart Hart { get; }

    protected HartState S { get; }

    protected EventScheduler Events { get; }

    public abstract string Name { get; }

    public EngineStatistics Statistics { get; } = new();

    public abstract void FlushCode();

    /// <summary>Runs at most <paramref name="n"/> instructions; returns early only on attention or WFI.</summary>
    protected abstract ChunkExit RunChunk(ulong n);

    public StopReason Run(ulong budget)
    {
        HartState s = S;
        ulong end = s.Executed + budget;
        Statistics.Slices++;
        while (true)
        {
            int attention = Hart.Attention;
            if (attention != 0)
            {
                if ((attention & Hart.AttentionStop) != 0)
                {
                    return Hart.ConsumeStop();
                }
                if ((attention & (Hart.AttentionCodeChanged | Hart.AttentionEventsChanged)) != 0)
                {
                    Hart.Attention &= ~(Hart.AttentionCodeChanged | Hart.AttentionEventsChanged);
                }
                if ((attention & Hart.AttentionInterrupt) != 0)
                {
                    Hart.TryTakeInterrupt();
                }
                continue;
            }
            ulong executed = s.Executed;
            if (executed >= end)
            {
                return StopReason.BudgetExhausted;
            }
            ulong due = Events.NextDue;
            if (s.Cycle >= due)
            {
                Events.RunDue(s.Cycle);
                continue;
            }
            ulong n = Math.Min(end - executed, due - s.Cycle);
            if (RunChunk(n) == ChunkExit.Idle)
            {
                return StopReason.Idle;
            }
        }
    }
}
