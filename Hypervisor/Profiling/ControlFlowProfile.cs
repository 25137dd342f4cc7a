namespace Hypervisor.Profiling;

/// <summary>
/// Every control transfer a guest made, as counted edges (from the address of the transferring
/// instruction to where execution went on): branches (taken and not taken), jumps, xRET, and
/// traps and interrupts (from the trapping pc to the handler).
/// </summary>
/// <remarks>
/// This is the raw data of <c>hv profile</c> and <c>hv coverage</c>: block entry counts are the
/// counts of edges into a block, and a block's instructions ran as often as it was entered. Every
/// engine and both methods record the same edges for the same run, so the counts are exact and
/// identical whatever ran the code.
/// </remarks>
public sealed class ControlFlowProfile
{
    private readonly Dictionary<(uint From, uint To), long> _edges = [];

    /// <summary>
    /// Counters of static edges by <see cref="EdgeSlots"/> number, incremented directly by
    /// translated code (cheaper than <see cref="Record"/>). Grown before code that uses a slot runs.
    /// </summary>
    public long[] Counters = new long[256];

    public ControlFlowProfile(uint entryPc) => EntryPc = entryPc;

    /// <summary>Where the guest started (its first block has no incoming edge).</summary>
    public uint EntryPc { get; }

    /// <summary>Every edge with its count (those recorded and those counted by slot).</summary>
    public IReadOnlyDictionary<(uint From, uint To), long> Edges
    {
        get
        {
            var all = new Dictionary<(uint From, uint To), long>(_edges);
            for (int slot = 0; slot < Counters.Length; slot++)
            {
                if (Counters[slot] != 0)
                {
                    (uint From, uint To) edge = EdgeSlots.EdgeOf(slot);
                    all[edge] = all.GetValueOrDefault(edge) + Counters[slot];
                }
            }
            return all;
        }
    }

    /// <summary>Total transfers recorded.</summary>
    public long TotalTransfers
    {
        get
        {
            long total = _recorded;
            foreach (long n in Counters)
            {
                total += n;
            }
            return total;
        }
    }

    private long _recorded;

    /// <summary>Makes <see cref="Counters"/> long enough for <paramref name="slot"/> (keeping the counts).</summary>
    public void EnsureSlot(int slot)
    {
        if (slot >= Counters.Length)
        {
            long[] grown = new long[Math.Max(slot + 1, Counters.Length * 2)];
            Counters.CopyTo(grown, 0);
            Counters = grown;
        }
    }

    /// <summary>Records one transfer from the instruction at <paramref name="from"/> to <paramref name="to"/>.</summary>
    public void Record(uint from, uint to)
    {
        ref long count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_edges, (from, to), out _);
        count++;
        _recorded++;
    }

    /// <summary>How many times execution entered each address as the target of a transfer (plus the entry point once).</summary>
    public Dictionary<uint, long> BlockEntries()
    {
        var entries = new Dictionary<uint, long> { [EntryPc] = 1 };
        foreach (((_, uint to), long n) in Edges)
        {
            entries[to] = entries.GetValueOrDefault(to) + n;
        }
        return entries;
    }

    public void Clear()
    {
        _edges.Clear();
        Array.Clear(Counters);
        _recorded = 0;
    }
}
