using Hypervisor.Actors.Config;
using Hypervisor.Actors.Devices;
using Hypervisor.Devices;

namespace Hypervisor.Tests.Storms;

/// <summary>Traffic patterns (steady, Poisson, bursts, storm): exact times, limits, seeds, and windows that never change the events.</summary>
public sealed class TrafficPatternTests
{
    private static DeviceSpec Spec(string type, long rate = 0, int burst = 1, ulong period = 0, ulong start = 0, long count = 0, ulong duration = 0, ulong seed = 1) =>
        new(type, 40, period, start, 0, count, rate, burst, seed, duration);

    /// <summary>Every event of a pattern as (tick, events), published window by window.</summary>
    private static List<(ulong Tick, int Events)> Events(TrafficPattern p, ulong until, ulong window)
    {
        var runs = new List<EventRun>();
        for (ulong t = window; t < until + window && !p.Finished; t += window)
        {
            p.Publish(Math.Min(t, until), runs);
        }
        var events = new List<(ulong, int)>();
        foreach (EventRun r in runs)
        {
            for (long k = r.First; k < r.End; k++)
            {
                events.Add((r.TimeOf(k), r.PerArrival));
            }
        }
        return events;
    }

    [Fact]
    public void A_steady_rate_places_each_event_at_its_exact_tick()
    {
        var events = Events(TrafficPattern.For(Spec("steady", rate: 3_000_000, start: 100, count: 7)), 10_000, 1_000);

        Assert.Equal([100UL, 103, 106, 110, 113, 116, 120], events.Select(e => e.Tick));
        Assert.All(events, e => Assert.Equal(1, e.Events));
    }

    [Fact]
    public void A_storm_at_max_raises_an_event_every_tick_until_its_duration_ends()
    {
        TrafficPattern p = TrafficPattern.For(Spec("storm", rate: TrafficPattern.MaxRate, start: 5, duration: 1_000));
        var runs = new List<EventRun>();

        p.Publish(100_000, runs);

        EventRun run = Assert.Single(runs);
        Assert.Equal(1_000, run.Events);
        Assert.Equal((5UL, 1_004UL), (run.FirstTime, run.LastTime));
        Assert.True(p.Finished);
        Assert.Equal(1_005UL, p.EndAt);
    }

    [Fact]
    public void Bursts_raise_n_events_at_once_every_period_count_times()
    {
        var events = Events(TrafficPattern.For(Spec("burst", burst: 64, period: 10_000, start: 500, count: 3)), 1_000_000, 7_777);

        Assert.Equal([(500UL, 64), (10_500UL, 64), (20_500UL, 64)], events);
    }

    [Fact]
    public void Publishing_in_windows_of_any_size_gives_the_same_events()
    {
        foreach (string type in new[] { "steady", "poisson", "burst", "storm" })
        {
            DeviceSpec spec = Spec(type, rate: 700_000, burst: 5, period: 333, duration: 50_000, seed: 3);
            var whole = Events(TrafficPattern.For(spec), 100_000, 100_000);
            var small = Events(TrafficPattern.For(spec), 100_000, 97);
            Assert.Equal(whole, small);
            Assert.NotEmpty(whole);
        }
    }

    [Fact]
    public void A_poisson_stream_is_the_same_for_the_same_seed_and_has_its_mean_rate()
    {
        var a = Events(TrafficPattern.For(Spec("poisson", rate: 20_000, duration: 10_000_000, seed: 42)), 10_000_000, 100_000);
        var b = Events(TrafficPattern.For(Spec("poisson", rate: 20_000, duration: 10_000_000, seed: 42)), 10_000_000, 100_000);
        var c = Events(TrafficPattern.For(Spec("poisson", rate: 20_000, duration: 10_000_000, seed: 43)), 10_000_000, 100_000);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        long n = a.Sum(e => (long)e.Events);
        Assert.InRange(n, 19_400, 20_600); // one second of virtual time at 20,000/s (3 sigma is ±424)
        Assert.True(a.Zip(a.Skip(1)).All(p => p.First.Tick < p.Second.Tick));
    }

    [Fact]
    public void A_count_ends_the_traffic_and_the_end_is_after_the_last_event()
    {
        TrafficPattern p = TrafficPattern.For(Spec("poisson", rate: 1_000_000, count: 100, seed: 9));
        var events = Events(p, ulong.MaxValue / 4, 1_000);

        Assert.Equal(100, events.Sum(e => e.Events));
        Assert.True(p.Finished);
        Assert.Equal(events[^1].Tick + 1, p.EndAt);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(1e-300)]
    [InlineData(0.123456789)]
    [InlineData(7e-10)]
    public void The_deterministic_logarithm_agrees_with_the_platforms(double x)
    {
        double expected = Math.Log(x);
        Assert.True(Math.Abs(DeterministicMath.Ln(x) - expected) <= 4e-16 * Math.Max(1, Math.Abs(expected)), $"ln({x})");
    }

    [Fact]
    public void A_storm_given_no_rate_runs_at_the_maximum_rate()
    {
        var events = Events(TrafficPattern.For(Spec("storm", start: 0, count: 5)), 10_000, 1_000);

        Assert.Equal(5, events.Count);
        Assert.Equal(events.Select((_, k) => (ulong)k * (ulong)(10_000_000 / TrafficPattern.MaxRate)), events.Select(e => e.Tick));
    }

    [Theory]
    [InlineData("steady", 0L)]
    [InlineData("poisson", -5L)]
    [InlineData("steady", long.MaxValue)]
    public void A_pattern_built_in_code_with_an_impossible_rate_is_refused_by_name(string type, long rate)
    {
        var e = Assert.Throws<ArgumentException>(() => TrafficPattern.For(Spec(type, rate: rate)));

        Assert.Contains($"a {type} device needs a rate", e.Message);
    }

    [Fact]
    public void A_burst_pattern_without_a_period_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => TrafficPattern.For(Spec("burst", burst: 8, period: 0)));

        Assert.Contains("needs at least one event per burst and a period", e.Message);
    }
}
