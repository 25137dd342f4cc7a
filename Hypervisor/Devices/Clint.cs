using Hypervisor.Cpu;
using Hypervisor.Memory;
using Hypervisor.Monitor;

namespace Hypervisor.Devices;

/// <summary>Core-local interruptor for one hart: software interrupt (msip) and timer (mtime, mtimecmp).</summary>
/// <remarks>
/// Register map (base 0x0200_0000, size 0x1_0000, 32-bit accesses only):
///   +0x0000  msip          bit 0 drives mip.MSIP
///   +0x4000  mtimecmp lo   mip.MTIP = (mtime &gt;= mtimecmp)
///   +0x4004  mtimecmp hi
///   +0xBFF8  mtime lo      the VM's virtual clock (10 MHz timebase); writable
///   +0xBFFC  mtime hi
/// The timer is an event on the VM's scheduler at the exact cycle mtime reaches mtimecmp, so the
/// interrupt lands on the same instruction whatever engine runs. mtimecmp resets to all ones
/// (no timer pending until the guest programs it).
/// </remarks>
public sealed class Clint : IMmioDevice, Machine.ISnapshotState
{
    public const uint DefaultBase = 0x0200_0000;

    private readonly IInterruptTarget _hart;
    private readonly VirtualClock _clock;
    private readonly EventScheduler _events;
    private long _timerEvent;

    public Clint(IInterruptTarget hart, VirtualClock clock, EventScheduler events)
    {
        _hart = hart;
        _clock = clock;
        _events = events;
        Reset();
    }

    public string Name => "clint";

    public uint Size => 0x1_0000;

    public ulong MtimeCmp { get; private set; }

    public bool Msip { get; private set; }

    public void Reset()
    {
        MtimeCmp = ulong.MaxValue;
        Msip = false;
        _hart.SetPending(InterruptBits.Msip, false);
        UpdateTimer();
    }

    public bool Read(uint offset, int size, out uint value)
    {
        value = 0;
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }
        value = offset switch
        {
            0x0000 => Msip ? 1u : 0u,
            0x4000 => (uint)MtimeCmp,
            0x4004 => (uint)(MtimeCmp >> 32),
            0xBFF8 => (uint)_clock.Now,
            0xBFFC => (uint)(_clock.Now >> 32),
            _ => 0,
        };
        return true;
    }

    public bool Write(uint offset, int size, uint value)
    {
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }
        switch (offset)
        {
            case 0x0000:
                Msip = (value & 1) != 0;
                _hart.SetPending(InterruptBits.Msip, Msip);
                break;
            case 0x4000:
                MtimeCmp = (MtimeCmp & 0xFFFF_FFFF_0000_0000) | value;
                UpdateTimer();
                break;
            case 0x4004:
                MtimeCmp = (MtimeCmp & 0xFFFF_FFFF) | ((ulong)value << 32);
                UpdateTimer();
                break;
            case 0xBFF8:
                _clock.Set((_clock.Now & 0xFFFF_FFFF_0000_0000) | value);
                UpdateTimer();
                break;
            case 0xBFFC:
                _clock.Set((_clock.Now & 0xFFFF_FFFF) | ((ulong)value << 32));
                UpdateTimer();
                break;
        }
        return true;
    }

    /// <summary>Sets mtimecmp directly (snapshot restore, tests).</summary>
    public void SetMtimeCmp(ulong value)
    {
        MtimeCmp = value;
        UpdateTimer();
    }

    public void Save(BinaryWriter w)
    {
        w.Write(MtimeCmp);
        w.Write(Msip);
        w.Write(_clock.Offset);
    }

    public void Restore(BinaryReader r)
    {
        MtimeCmp = r.ReadUInt64();
        Msip = r.ReadBoolean();
        _clock.Offset = r.ReadInt64();
        _hart.SetPending(InterruptBits.Msip, Msip);
        _timerEvent = 0;
        UpdateTimer();
    }

    private void OnTimerEvent()
    {
        _timerEvent = 0;
        UpdateTimer();
    }

    /// <summary>Re-evaluates MTIP now and schedules the event for when it will change.</summary>
    public void UpdateTimer()
    {
        _events.Cancel(_timerEvent);
        _timerEvent = 0;
        bool due = _clock.Now >= MtimeCmp;
        _hart.SetPending(InterruptBits.Mtip, due);
        if (!due && MtimeCmp != ulong.MaxValue)
        {
            ulong when = _clock.CycleWhen(MtimeCmp);
            if (when != ulong.MaxValue)
            {
                _timerEvent = _events.Schedule(when, OnTimerEvent);
            }
        }
    }
}
