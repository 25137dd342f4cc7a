namespace Hypervisor.Devices;

/// <summary>
/// A run of interrupt-generator arrivals on one source, in time units (mtime ticks when published by
/// the host): arrival k, for <see cref="First"/> &lt;= k &lt; First + <see cref="Count"/>, is at
/// <c>Origin + ⌊k · IntervalNum / IntervalDen⌋</c> and raises <see cref="PerArrival"/> events at once.
/// </summary>
/// <remarks>
/// One run describes a steady stream (interval 10^7/rate ticks, kept exact as a fraction), a burst
/// train (N events every T) or a single arrival, so a storm of millions of events per second travels
/// between actors as a few numbers. A plain value: it serializes as it is.
/// </remarks>
public readonly record struct EventRun(ulong Origin, long First, long Count, ulong IntervalNum, ulong IntervalDen, int PerArrival)
{
    /// <summary><paramref name="events"/> events at once at <paramref name="time"/>.</summary>
    public static EventRun Single(ulong time, int events = 1) => new(time, 0, 1, 0, 1, events);

    /// <summary><paramref name="count"/> arrivals every <paramref name="interval"/> from <paramref name="origin"/>, each of <paramref name="perArrival"/> events.</summary>
    public static EventRun Every(ulong origin, ulong interval, long count, int perArrival = 1) => new(origin, 0, count, interval, 1, perArrival);

    /// <summary>Events in the run: arrivals times events per arrival.</summary>
    public long Events => Count * PerArrival;

    /// <summary>One past the last arrival index.</summary>
    public long End => First + Count;

    /// <summary>Time of arrival <paramref name="k"/>.</summary>
    public ulong TimeOf(long k)
    {
        UInt128 offset = (UInt128)(ulong)k * IntervalNum / IntervalDen;
        UInt128 t = Origin + offset;
        return t >= ulong.MaxValue ? ulong.MaxValue : (ulong)t;
    }

    public ulong FirstTime => TimeOf(First);

    public ulong LastTime => TimeOf(End - 1);

    /// <summary>The index of the last arrival at or before <paramref name="time"/>; First - 1 when none is.</summary>
    public long LastIndexAtOrBefore(ulong time)
    {
        if (Count <= 0 || time < FirstTime)
        {
            return First - 1;
        }
        if (IntervalNum == 0)
        {
            return End - 1;
        }
        // floor(k*Num/Den) <= D  <=>  k*Num < (D+1)*Den  <=>  k <= ((D+1)*Den - 1) / Num
        UInt128 d = (UInt128)(time - Origin);
        UInt128 k = ((d + 1) * IntervalDen - 1) / IntervalNum;
        return k >= (UInt128)(ulong)(End - 1) ? End - 1 : (long)(ulong)k;
    }

    /// <summary>The arrivals <paramref name="from"/> .. <paramref name="from"/> + <paramref name="count"/> - 1 of this run.</summary>
    public EventRun Slice(long from, long count) => this with { First = from, Count = count };

    /// <summary>Null when the run is well formed, otherwise what is wrong.</summary>
    public string? Problem() =>
        Count < 0 ? "a run's count must not be negative"
        : First < 0 ? "a run's first index must not be negative"
        : PerArrival < 1 ? "a run must raise at least one event per arrival"
        : IntervalDen == 0 ? "a run's interval denominator must not be 0"
        : (UInt128)(ulong)Math.Max(0, End) * IntervalNum / IntervalDen + Origin >= ulong.MaxValue ? "a run must end before the end of time"
        : null;
}
