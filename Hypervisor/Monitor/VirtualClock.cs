using System.Diagnostics;
using Hypervisor.Cpu;

namespace Hypervisor.Monitor;

/// <summary>A VM's mtime. Guests never read host time: in virtual mode mtime is a function of the hart's cycle count.</summary>
/// <remarks>
/// Virtual mode: <c>mtime = cycle / InstructionsPerTick + offset</c>, where cycle counts executed
/// instructions plus idle time skipped in WFI. The timebase is 10 MHz, as on QEMU's virt machine, so
/// the default of 10 instructions per tick models a 100 MIPS hart. Realtime mode: mtime follows the
/// host's monotonic clock times <see cref="RealtimeScale"/>; a descheduled VM's clock keeps running,
/// and a timer that expired while it was descheduled fires once when it next runs (missed ticks of a
/// periodic guest timer are not replayed: the guest sees one interrupt and a late mtime, as a real
/// machine that was paused would).
/// </remarks>
public sealed class VirtualClock
{
    public const ulong TimebaseHz = 10_000_000;

    private readonly HartState _state;
    private readonly Stopwatch _host = new();
    private long _offset;

    public VirtualClock(HartState state, TimeMode mode = TimeMode.Virtual, uint instructionsPerTick = 10, double realtimeScale = 1.0)
    {
        if (instructionsPerTick == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(instructionsPerTick), "must be at least 1");
        }
        _state = state;
        Mode = mode;
        InstructionsPerTick = instructionsPerTick;
        RealtimeScale = realtimeScale;
        _host.Start();
    }

    public TimeMode Mode { get; }

    public uint InstructionsPerTick { get; }

    public double RealtimeScale { get; }

    /// <summary>How many executed instructions a realtime-mode VM runs between checks of the host clock.</summary>
    public const ulong RealtimePollCycles = 20_000;

    /// <summary>Current mtime.</summary>
    public ulong Now => (ulong)((long)RawTicks + _offset);

    private ulong RawTicks => Mode == TimeMode.Virtual
        ? _state.Cycle / InstructionsPerTick
        : (ulong)(_host.Elapsed.TotalSeconds * TimebaseHz * RealtimeScale);

    /// <summary>A guest write to mtime.</summary>
    public void Set(ulong ticks) => _offset = (long)ticks - (long)RawTicks;

    /// <summary>
    /// The hart cycle at which mtime first reaches <paramref name="ticks"/>. In realtime mode the answer
    /// is only the next time to look at the host clock again.
    /// </summary>
    public ulong CycleWhen(ulong ticks)
    {
        if (ticks == ulong.MaxValue)
        {
            return ulong.MaxValue;
        }
        if (Now >= ticks)
        {
            return _state.Cycle;
        }
        if (Mode == TimeMode.Realtime)
        {
            return _state.Cycle + RealtimePollCycles;
        }
        ulong rawTarget = (ulong)((long)ticks - _offset);
        UInt128 cycle = (UInt128)rawTarget * InstructionsPerTick;
        return cycle > ulong.MaxValue ? ulong.MaxValue : (ulong)cycle;
    }

    /// <summary>State for a snapshot.</summary>
    public long Offset
    {
        get => _offset;
        set => _offset = value;
    }
}
