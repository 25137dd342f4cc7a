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

    public ControlFlowProfile(uint entryPc) => EntryPc = entryPc;

    /// <summary>Where the guest started (its first block has no incoming edge).</summary>
    public uint EntryPc { get; }

    public IReadOnlyDictionary<(uint From, uint To), long> Edges => _edges;

    /// <summary>Total transfers recorded.</summary>
    public long TotalTransfers { get; private set; }

    /// <summary>Records one transfer from the instruction at <paramref name="from"/> to <paramref name="to"/>.</summary>
    public void Record(uint from, uint to)
    {
        ref long count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_edges, (from, to), out _);
        count++;
        TotalTransfers++;
    }

    /// <summary>How many times execution entered each address as the target of a transfer (plus the entry point once).</summary>
    public Dictionary<uint, long> BlockEntries()
    {
        var entries = new Dictionary<uint, long> { [EntryPc] = 1 };
        foreach (((_, uint to), long n) in _edges)
        {
            entries[to] = entries.GetValueOrDefault(to) + n;
        }
        return entries;
    }

    public void Clear()
    {
        _edges.Clear();
        TotalTransfers = 0;
    }
}
