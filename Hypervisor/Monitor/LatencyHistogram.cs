namespace Hypervisor.Monitor;

/// <summary>p50, p99 and max of a latency histogram, in the unit the caller converted to.</summary>
public sealed record LatencySummary(long Count, double P50, double P99, double Max)
{
    public static readonly LatencySummary Empty = new(0, 0, 0, 0);

    /// <summary>The same summary with every figure multiplied by <paramref name="factor"/> (a unit conversion).</summary>
    public LatencySummary Scaled(double factor) => this with { P50 = P50 * factor, P99 = P99 * factor, Max = Max * factor };
}

/// <summary>
/// A histogram of interrupt latencies in nanoseconds (of virtual time, or of host time), with two
/// views of the same samples: fixed export buckets (<see cref="Bounds"/>, a 1-2-5 series from 10 ns
/// to 10 s, which telemetry exports as OpenTelemetry histogram boundaries) and fine log-linear
/// buckets for percentiles, in the manner of HdrHistogram (values below 32 ns have a bucket each;
/// above, every power of two is split in 16, so p50 and p99 are within 1/16 of the true value).
/// The maximum and minimum are exact.
/// </summary>
/// <remarks>
/// Recording allocates nothing after the first sample (the bucket arrays are allocated then, so a
/// VM that never sees a generator interrupt costs nothing). Not thread-safe: a VM records on its
/// own thread and readers look between slices, on the same thread or after a message.
/// </remarks>
public sealed class LatencyHistogram
{
    /// <summary>Upper bounds (inclusive, nanoseconds) of the export buckets; one more bucket holds what lies above the last.</summary>
    public static readonly long[] Bounds = BuildBounds();

    private const int SubBits = 4;
    private const int SubBuckets = 1 << SubBits;   // 16 fine buckets per power of two
    private const int Linear = 2 * SubBuckets;      // values 0..31 have a fine bucket each
    private const int FineCount = Linear + (63 - SubBits) * SubBuckets;

    private long[]? _export;
    private long[]? _fine;

    /// <summary>Number of export buckets: <see cref="Bounds"/> plus the overflow bucket.</summary>
    public int BucketCount => Bounds.Length + 1;

    public long Count { get; private set; }

    /// <summary>Sum of the recorded values (ns).</summary>
    public long Sum { get; private set; }

    /// <summary>Largest recorded value (ns); 0 when empty.</summary>
    public long Max { get; private set; }

    /// <summary>Smallest recorded value (ns); 0 when empty.</summary>
    public long Min => Count == 0 ? 0 : _min;

    private long _min = long.MaxValue;

    /// <summary>Samples in export bucket <paramref name="index"/> (values in (Bounds[index-1], Bounds[index]]).</summary>
    public long CountAt(int index) => _export is null ? 0 : _export[index];

    public void Record(long nanoseconds)
    {
        long v = Math.Max(0, nanoseconds);
        _export ??= new long[Bounds.Length + 1];
        _fine ??= new long[FineCount];
        _export[ExportBucketOf(v)]++;
        _fine[FineBucketOf((ulong)v)]++;
        Count++;
        Sum += v;
        if (v > Max)
        {
            Max = v;
        }
        if (v < _min)
        {
            _min = v;
        }
    }

    public void Clear()
    {
        if (_export is not null)
        {
            Array.Clear(_export);
        }
        if (_fine is not null)
        {
            Array.Clear(_fine);
        }
        Count = 0;
        Sum = 0;
        Max = 0;
        _min = long.MaxValue;
    }

    /// <summary>
    /// The value (ns) at quantile <paramref name="q"/> (0..1): the middle of the fine bucket holding
    /// the q-th sample, clamped to the exact minimum and maximum. 0 when nothing was recorded.
    /// </summary>
    public double Quantile(double q)
    {
        if (Count == 0 || _fine is null)
        {
            return 0;
        }
        long rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (int b = 0; b < _fine.Length; b++)
        {
            seen += _fine[b];
            if (seen >= rank)
            {
                double mid = (FineLowerBound(b) / 2.0) + (FineUpperBound(b) / 2.0);
                return Math.Clamp(mid, Min, Max);
            }
        }
        return Max;
    }

    /// <summary>Count, p50, p99 and max, in nanoseconds.</summary>
    public LatencySummary Summary() => Count == 0 ? LatencySummary.Empty : new(Count, Quantile(0.50), Quantile(0.99), Max);

    private static int ExportBucketOf(long v)
    {
        int i = Array.BinarySearch(Bounds, v);
        return i >= 0 ? i : ~i; // the first bound >= v, or Bounds.Length above the last
    }

    /// <summary>The fine bucket a value falls in.</summary>
    internal static int FineBucketOf(ulong value)
    {
        if (value < Linear)
        {
            return (int)value;
        }
        int exponent = 63 - System.Numerics.BitOperations.LeadingZeroCount(value); // >= 5
        int top = (int)(value >> (exponent - SubBits));                           // 16..31
        return Linear + (exponent - SubBits - 1) * SubBuckets + (top - SubBuckets);
    }

    internal static ulong FineLowerBound(int bucket)
    {
        if (bucket < Linear)
        {
            return (ulong)bucket;
        }
        int rel = bucket - Linear;
        int exponent = rel / SubBuckets + SubBits + 1;
        ulong top = (ulong)(rel % SubBuckets + SubBuckets);
        return top << (exponent - SubBits);
    }

    internal static ulong FineUpperBound(int bucket) => bucket + 1 >= FineCount ? ulong.MaxValue : FineLowerBound(bucket + 1) - 1;

    private static long[] BuildBounds()
    {
        var bounds = new List<long>();
        for (long decade = 10; decade <= 1_000_000_000; decade *= 10)
        {
            bounds.Add(decade);
            bounds.Add(2 * decade);
            bounds.Add(5 * decade);
        }
        bounds.Add(10_000_000_000);
        return [.. bounds];
    }
}
