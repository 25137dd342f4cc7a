using System.Collections.Concurrent;

namespace Hypervisor.Profiling;

/// <summary>
/// Process-wide numbering of static control-flow edges (from, to), so that translated code —
/// which is shared by every VM running the same guest code — can count an edge with one array
/// increment at a constant index. Each VM's <see cref="ControlFlowProfile"/> owns its own counter array.
/// </summary>
/// <remarks>Append-only and thread-safe; it only maps addresses to numbers, no VM state lives here.</remarks>
public static class EdgeSlots
{
    private static readonly ConcurrentDictionary<(uint From, uint To), int> Slots = new();
    private static readonly List<(uint From, uint To)> Edges = [];
    private static readonly Lock Gate = new();

    /// <summary>The slot of the edge (assigned on first use).</summary>
    public static int SlotOf(uint from, uint to)
    {
        if (Slots.TryGetValue((from, to), out int slot))
        {
            return slot;
        }
        lock (Gate)
        {
            if (!Slots.TryGetValue((from, to), out slot))
            {
                slot = Edges.Count;
                Edges.Add((from, to));
                Slots[(from, to)] = slot;
            }
            return slot;
        }
    }

    /// <summary>The edge a slot counts.</summary>
    public static (uint From, uint To) EdgeOf(int slot)
    {
        lock (Gate)
        {
            return Edges[slot];
        }
    }
}
