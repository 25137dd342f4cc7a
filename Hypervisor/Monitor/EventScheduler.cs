namespace Hypervisor.Monitor;

/// <summary>A VM's queue of device and timer events, each due at a hart cycle.</summary>
/// <remarks>
/// Engines run at most up to <see cref="NextDue"/> and then call <see cref="RunDue"/>, so an event
/// takes effect at an exact instruction boundary whatever engine runs and however the host
/// scheduled the VM: that is what makes virtual-time runs deterministic. Events due at the same
/// cycle run in the order they were scheduled.
/// </remarks>
public sealed class EventScheduler
{
    private readonly PriorityQueue<Entry, (ulong Due, long Seq)> _queue = new();
    private readonly HashSet<long> _live = [];
    private long _nextId = 1;

    private sealed record Entry(long Id, Action Action);

    /// <summary>Cycle of the earliest pending event, or ulong.MaxValue.</summary>
    public ulong NextDue { get; private set; } = ulong.MaxValue;

    /// <summary>
    /// Called when an event is scheduled earlier than every pending one: an engine running a chunk
    /// that was cut at the old <see cref="NextDue"/> must stop and cut it again (a guest that arms
    /// its timer for a few ticks ahead in the middle of a chunk).
    /// </summary>
    public Action? NextDueLowered { get; set; }

    public int Count => _live.Count;

    /// <summary>Schedules <paramref name="action"/> at <paramref name="cycle"/>; returns an id for <see cref="Cancel"/>.</summary>
    public long Schedule(ulong cycle, Action action)
    {
        long id = _nextId++;
        _live.Add(id);
        _queue.Enqueue(new Entry(id, action), (cycle, id));
        if (cycle < NextDue)
        {
            NextDue = cycle;
            NextDueLowered?.Invoke();
        }
        return id;
    }

    public void Cancel(long id)
    {
        if (_live.Remove(id))
        {
            Refresh();
        }
    }

    /// <summary>Runs every event due at or before <paramref name="now"/>.</summary>
    public void RunDue(ulong now)
    {
        while (_queue.TryPeek(out Entry? e, out (ulong Due, long Seq) key) && key.Due <= now)
        {
            _queue.Dequeue();
            if (_live.Remove(e.Id))
            {
                e.Action();
            }
        }
        Refresh();
    }

    public void Clear()
    {
        _queue.Clear();
        _live.Clear();
        NextDue = ulong.MaxValue;
    }

    private void Refresh()
    {
        while (_queue.TryPeek(out Entry? e, out _) && !_live.Contains(e.Id))
        {
            _queue.Dequeue();
        }
        NextDue = _queue.TryPeek(out _, out (ulong Due, long Seq) key) ? key.Due : ulong.MaxValue;
    }
}
