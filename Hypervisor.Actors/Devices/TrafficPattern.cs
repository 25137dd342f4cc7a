using Hypervisor.Actors.Config;
using Hypervisor.Devices;

namespace Hypervisor.Actors.Devices;

/// <summary>
/// The traffic an interrupt-generator source sees, as plain code (no actors, no clocks): asked for
/// the arrivals before a virtual time, it returns them as <see cref="EventRun"/>s (mtime ticks),
/// each arrival once, in time order. Deterministic: the same spec (and seed) gives the same events.
/// </summary>
public abstract class TrafficPattern
{
    /// <summary>Events per second of virtual time at one event per mtime tick (the 10 MHz timebase): a storm "as fast as possible".</summary>
    public const long MaxRate = 10_000_000;

    /// <summary>The device types that drive the interrupt generator (the others, e.g. pulse, drive a PLIC line directly).</summary>
    public static readonly string[] Types = ["steady", "poisson", "burst", "storm"];

    public static bool IsGeneratorType(string type) => Types.Contains(type);

    /// <summary>True once every arrival has been returned: nothing comes at or after <see cref="EndAt"/>.</summary>
    public bool Finished { get; protected set; }

    /// <summary>When <see cref="Finished"/>: the tick after the last arrival (the stream's end); else ulong.MaxValue.</summary>
    public ulong EndAt { get; protected set; } = ulong.MaxValue;

    /// <summary>Appends every arrival before tick <paramref name="until"/> not returned yet to <paramref name="runs"/>.</summary>
    public abstract void Publish(ulong until, List<EventRun> runs);

    /// <summary>The pattern a device spec describes.</summary>
    public static TrafficPattern For(DeviceSpec spec)
    {
        ulong end = spec.DurationTicks == 0 ? ulong.MaxValue / 2 : Math.Min(ulong.MaxValue / 2, spec.StartTicks + spec.DurationTicks);
        long rate = spec.Type == "storm" && spec.Rate == 0 ? MaxRate : spec.Rate;
        if (spec.Type is "steady" or "storm" or "poisson" && (rate < 1 || rate > MaxRate))
        {
            throw new ArgumentException($"a {spec.Type} device needs a rate of 1 to {MaxRate} events per second of virtual time (got {spec.Rate})");
        }
        if (spec.Type == "burst" && (spec.Burst < 1 || spec.PeriodTicks == 0))
        {
            throw new ArgumentException($"a burst device needs at least one event per burst and a period (got {spec.Burst} every {spec.PeriodTicks} ticks)");
        }
        return spec.Type switch
        {
            "steady" or "storm" => new Arithmetic(new EventRun(spec.StartTicks, 0, Limit(spec.Count), (ulong)MaxRate, (ulong)rate, 1), end),
            "burst" => new Arithmetic(new EventRun(spec.StartTicks, 0, Limit(spec.Count), spec.PeriodTicks, 1, spec.Burst), end),
            "poisson" => new Poisson(spec.StartTicks, rate, spec.Seed, spec.Count, end),
            _ => throw new ArgumentException($"'{spec.Type}' is not an interrupt-generator traffic type ({string.Join(", ", Types)})"),
        };
    }

    private static long Limit(long count) => count == 0 ? long.MaxValue / 4 : count;

    /// <summary>Arrivals at origin + ⌊k·num/den⌋: steady streams, storms and burst trains. Each window is one run.</summary>
    private sealed class Arithmetic : TrafficPattern
    {
        private readonly EventRun _all;
        private long _next;

        public Arithmetic(EventRun all, ulong endTick)
        {
            // Only the arrivals before the end of the duration (and of time) exist.
            long last = Math.Min(all.End - 1, all.LastIndexAtOrBefore(endTick - 1));
            _all = all with { Count = Math.Max(0, last + 1) };
            Check();
        }

        public override void Publish(ulong until, List<EventRun> runs)
        {
            if (Finished || until == 0)
            {
                return;
            }
            long last = Math.Min(_all.End - 1, _all.LastIndexAtOrBefore(until - 1));
            if (last >= _next)
            {
                runs.Add(_all.Slice(_next, last - _next + 1));
                _next = last + 1;
            }
            Check();
        }

        private void Check()
        {
            if (_next >= _all.End)
            {
                Finished = true;
                EndAt = _all.Count == 0 ? _all.Origin : _all.LastTime + 1;
            }
        }
    }

    /// <summary>
    /// A Poisson process of mean rate λ (seeded): exponential gaps drawn by a SplitMix64 generator
    /// and a logarithm computed with IEEE arithmetic only, so every host draws the same events.
    /// Arrivals on the same tick are one arrival of several events.
    /// </summary>
    private sealed class Poisson : TrafficPattern
    {
        private readonly double _meanGapTicks;
        private readonly long _count;
        private readonly ulong _start;
        private readonly ulong _end;
        private ulong _state;
        private double _time;
        private long _drawn;
        private ulong? _next;
        private ulong? _last;

        public Poisson(ulong start, long rate, ulong seed, long count, ulong endTick)
        {
            _meanGapTicks = (double)MaxRate / rate;
            _count = count == 0 ? long.MaxValue : count;
            _start = start;
            _end = endTick;
            _state = seed;
            _time = start;
            _next = DrawEvent();
            CheckFinished();
        }

        /// <summary>The tick of the next event, or null when the pattern has no more.</summary>
        private ulong? DrawEvent()
        {
            ulong tick = (ulong)Math.Floor(_time);
            if (_drawn >= _count || tick >= _end)
            {
                return null;
            }
            _drawn++;
            _time += -DeterministicMath.Ln(NextUniform()) * _meanGapTicks;
            return tick;
        }

        public override void Publish(ulong until, List<EventRun> runs)
        {
            while (_next is ulong t && t < until)
            {
                int events = 0;
                while (_next == t && events < int.MaxValue)
                {
                    events++;
                    _next = DrawEvent();
                }
                runs.Add(EventRun.Single(t, events));
                _last = t;
            }
            CheckFinished();
        }

        private void CheckFinished()
        {
            if (_next is null)
            {
                Finished = true;
                EndAt = _last is ulong l ? l + 1 : _start;
            }
        }

        /// <summary>A uniform double in (0, 1] from SplitMix64.</summary>
        private double NextUniform()
        {
            ulong z = _state += 0x9E37_79B9_7F4A_7C15;
            z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
            z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
            z ^= z >> 31;
            return ((z >> 11) + 1) * (1.0 / (1UL << 53));
        }
    }
}

/// <summary>Elementary functions from IEEE-754 basic operations only (+, -, *, /), so they give the same bits on every host.</summary>
public static class DeterministicMath
{
    private const double Ln2 = 0.693147180559945309417232121458176568;

    /// <summary>Natural logarithm of <paramref name="x"/> &gt; 0: x = m·2^e with m in [1, 2), ln m = 2·atanh((m-1)/(m+1)) by its series.</summary>
    public static double Ln(double x)
    {
        if (!(x > 0) || double.IsInfinity(x))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "the logarithm needs a positive finite number");
        }
        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7FF);
        if (exponent == 0)
        {
            // Subnormal: scale into the normal range first.
            return Ln(x * 4503599627370496.0) - 52 * Ln2;
        }
        double m = BitConverter.Int64BitsToDouble((bits & 0x000F_FFFF_FFFF_FFFFL) | 0x3FF0_0000_0000_0000L);
        int e = exponent - 1023;
        double z = (m - 1) / (m + 1);   // 0 <= z < 1/3
        double z2 = z * z;
        double term = z, sum = 0;
        for (int k = 1; k < 60; k += 2)
        {
            sum += term / k;
            term *= z2;
        }
        return e * Ln2 + 2 * sum;
    }
}
