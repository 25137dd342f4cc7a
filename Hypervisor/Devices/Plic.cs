using Hypervisor.Cpu;
using Hypervisor.Memory;

namespace Hypervisor.Devices;

/// <summary>Platform-level interrupt controller: 64 sources, two contexts (hart 0 M-mode, hart 0 S-mode), as on QEMU's virt.</summary>
/// <remarks>
/// Register map (base 0x0C00_0000, size 0x400_0000, 32-bit accesses only):
///   +0x000000 + 4*s        priority of source s (0..7; source 0 does not exist)
///   +0x001000, +0x001004   pending bits 0..31, 32..63 (read-only)
///   +0x002000 + 0x80*c     enable bits of context c (two words)
///   +0x200000 + 0x1000*c   priority threshold of context c
///   +0x200004 + 0x1000*c   claim (read) / complete (write) of context c
/// Sources are level-triggered: a raised line makes the source pending unless it is in service;
/// a claim clears pending and puts the source in service; a completion takes it out of service and,
/// if the line is still high, makes it pending again; a lowered line clears pending. Context 0
/// drives mip.MEIP and context 1 drives mip.SEIP.
/// </remarks>
public sealed class Plic : IMmioDevice, IInterruptSink, Machine.ISnapshotState
{
    public const uint DefaultBase = 0x0C00_0000;
    public const int Sources = 64;
    public const int Contexts = 2;
    public const uint MaxPriority = 7;

    private readonly IInterruptTarget _hart;
    private readonly uint[] _priority = new uint[Sources];
    private ulong _pending;
    private ulong _inService;
    private ulong _level;
    private readonly ulong[] _enable = new ulong[Contexts];
    private readonly uint[] _threshold = new uint[Contexts];
    private static readonly uint[] ContextLine = [InterruptBits.Meip, InterruptBits.Seip];

    public Plic(IInterruptTarget hart) => _hart = hart;

    public string Name => "plic";

    public uint Size => 0x400_0000;

    /// <summary>Raised when a context claims a source (context, source).</summary>
    public event Action<int, int>? Claimed;

    public ulong PendingBits => _pending;

    public void SetLine(int source, bool level)
    {
        if (source <= 0 || source >= Sources)
        {
            return;
        }
        ulong bit = 1UL << source;
        if (level)
        {
            _level |= bit;
            if ((_inService & bit) == 0)
            {
                _pending |= bit;
            }
        }
        else
        {
            _level &= ~bit;
            _pending &= ~bit;
        }
        Update();
    }

    public bool Read(uint offset, int size, out uint value)
    {
        value = 0;
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }
        if (offset < 4 * Sources)
        {
            value = _priority[offset / 4];
        }
        else if (offset is 0x1000 or 0x1004)
        {
            value = (uint)(_pending >> (offset == 0x1000 ? 0 : 32));
        }
        else if (offset >= 0x2000 && offset < 0x2000 + 0x80 * Contexts)
        {
            uint rel = offset - 0x2000;
            int ctx = (int)(rel / 0x80);
            uint word = (rel % 0x80) / 4;
            value = word < 2 ? (uint)(_enable[ctx] >> (int)(32 * word)) : 0;
        }
        else if (offset >= 0x200000 && offset < 0x200000 + 0x1000 * Contexts)
        {
            uint rel = offset - 0x200000;
            int ctx = (int)(rel / 0x1000);
            switch (rel % 0x1000)
            {
                case 0: value = _threshold[ctx]; break;
                case 4: value = Claim(ctx); break;
            }
        }
        return true;
    }

    public bool Write(uint offset, int size, uint value)
    {
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }
        if (offset < 4 * Sources)
        {
            int source = (int)(offset / 4);
            if (source != 0)
            {
                _priority[source] = Math.Min(value, MaxPriority);
            }
        }
        else if (offset >= 0x2000 && offset < 0x2000 + 0x80 * Contexts)
        {
            uint rel = offset - 0x2000;
            int ctx = (int)(rel / 0x80);
            uint word = (rel % 0x80) / 4;
            if (word == 0)
            {
                _enable[ctx] = (_enable[ctx] & 0xFFFF_FFFF_0000_0000) | (value & ~1u);
            }
            else if (word == 1)
            {
                _enable[ctx] = (_enable[ctx] & 0xFFFF_FFFF) | ((ulong)value << 32);
            }
        }
        else if (offset >= 0x200000 && offset < 0x200000 + 0x1000 * Contexts)
        {
            uint rel = offset - 0x200000;
            int ctx = (int)(rel / 0x1000);
            switch (rel % 0x1000)
            {
                case 0: _threshold[ctx] = Math.Min(value, MaxPriority); break;
                case 4: Complete(ctx, value); break;
            }
        }
        Update();
        return true;
    }

    /// <summary>The best source context <paramref name="context"/> would claim now, or 0.</summary>
    public int BestPending(int context)
    {
        ulong candidates = _pending & _enable[context];
        int best = 0;
        uint bestPriority = _threshold[context];
        while (candidates != 0)
        {
            int s = System.Numerics.BitOperations.TrailingZeroCount(candidates);
            candidates &= candidates - 1;
            if (_priority[s] > bestPriority)
            {
                best = s;
                bestPriority = _priority[s];
            }
        }
        return best;
    }

    private uint Claim(int context)
    {
        int source = BestPending(context);
        if (source != 0)
        {
            ulong bit = 1UL << source;
            _pending &= ~bit;
            _inService |= bit;
            Update();
            Claimed?.Invoke(context, source);
        }
        return (uint)source;
    }

    private void Complete(int context, uint source)
    {
        if (source == 0 || source >= Sources || (_enable[context] & (1UL << (int)source)) == 0)
        {
            return; // completion of a source not enabled for this context is ignored
        }
        ulong bit = 1UL << (int)source;
        _inService &= ~bit;
        if ((_level & bit) != 0)
        {
            _pending |= bit;
        }
    }

    public void Save(BinaryWriter w)
    {
        foreach (uint p in _priority)
        {
            w.Write(p);
        }
        w.Write(_pending); w.Write(_inService); w.Write(_level);
        foreach (ulong e in _enable)
        {
            w.Write(e);
        }
        foreach (uint t in _threshold)
        {
            w.Write(t);
        }
    }

    public void Restore(BinaryReader r)
    {
        for (int i = 0; i < _priority.Length; i++)
        {
            _priority[i] = r.ReadUInt32();
        }
        _pending = r.ReadUInt64(); _inService = r.ReadUInt64(); _level = r.ReadUInt64();
        for (int i = 0; i < _enable.Length; i++)
        {
            _enable[i] = r.ReadUInt64();
        }
        for (int i = 0; i < _threshold.Length; i++)
        {
            _threshold[i] = r.ReadUInt32();
        }
        Update();
    }

    private void Update()
    {
        for (int ctx = 0; ctx < Contexts; ctx++)
        {
            _hart.SetPending(ContextLine[ctx], BestPending(ctx) != 0);
        }
    }
}
