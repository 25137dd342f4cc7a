using Hypervisor.Actors.Monitor;
using Hypervisor.Actors.Vm;
using Hypervisor.Devices;

namespace Hypervisor.Tests.Storms;

/// <summary>The monitor's per-VM interrupt-rate limit: deferred in virtual time, never dropped, counted, deterministic.</summary>
public sealed class InterruptRateLimiterTests
{
    private static GeneratorEvents Traffic(int device, int source, params EventRun[] runs) => new("vm", device, source, runs, 0, ulong.MaxValue);

    /// <summary>Every event of the forwarded generator messages, as (source, tick).</summary>
    private static List<(int Source, ulong Tick)> Events(IEnumerable<object> output)
    {
        var events = new List<(int, ulong)>();
        foreach (GeneratorEvents g in output.OfType<GeneratorEvents>())
        {
            foreach (EventRun r in g.Runs)
            {
                for (long k = r.First; k < r.End; k++)
                {
                    for (int e = 0; e < r.PerArrival; e++)
                    {
                        events.Add((g.Source, r.TimeOf(k)));
                    }
                }
            }
        }
        return events;
    }

    [Fact]
    public void A_storm_above_the_limit_is_spread_to_one_event_per_slot_and_nothing_is_dropped()
    {
        var limiter = new InterruptRateLimiter(1_000, devices: 1); // one slot per 10,000 ticks
        var output = new List<object>();

        limiter.Offer(Traffic(0, 40, EventRun.Every(0, 1, 50)), output);

        GeneratorEvents g = Assert.IsType<GeneratorEvents>(Assert.Single(output));
        Assert.Equal(50, g.Events);
        Assert.Equal(49, g.Deferred);
        Assert.Equal(49, limiter.Deferred);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (40, (ulong)i * 10_000)), Events(output));
        Assert.True(g.Runs.Length <= 2); // a deferred stretch stays one run
    }

    [Fact]
    public void Traffic_under_the_limit_passes_unchanged()
    {
        var limiter = new InterruptRateLimiter(1_000_000, devices: 1);
        var output = new List<object>();
        var run = new EventRun(100, 3, 1_000, 10_000_000, 500_000, 1); // 500,000 per second

        limiter.Offer(Traffic(0, 33, run), output);

        GeneratorEvents g = Assert.IsType<GeneratorEvents>(Assert.Single(output));
        Assert.Equal([run], g.Runs);
        Assert.Equal(0, g.Deferred);
    }

    [Fact]
    public void A_burst_keeps_its_first_event_and_defers_the_rest_one_slot_apart()
    {
        var limiter = new InterruptRateLimiter(100_000, devices: 1); // 100 ticks apart
        var output = new List<object>();

        limiter.Offer(Traffic(0, 34, EventRun.Single(1_000, events: 5), EventRun.Single(1_150, events: 1)), output);

        Assert.Equal([(34, 1_000UL), (34, 1_100UL), (34, 1_200UL), (34, 1_300UL), (34, 1_400UL), (34, 1_500UL)], Events(output));
        Assert.Equal(5, limiter.Deferred);
    }

    [Fact]
    public void With_several_devices_the_slots_do_not_depend_on_the_order_their_messages_arrive_in()
    {
        List<(int, ulong)> Run(bool aFirst)
        {
            var limiter = new InterruptRateLimiter(10_000, devices: 2);
            var output = new List<object>();
            GeneratorEvents a = Traffic(0, 40, EventRun.Every(0, 7, 300));
            GeneratorEvents b = Traffic(1, 41, EventRun.Every(3, 11, 200));
            limiter.Offer(aFirst ? a : b, output);
            limiter.Promise(aFirst ? 0 : 1, 5_000, output);
            Assert.Empty(output); // held: the other device has not promised yet
            limiter.Offer(aFirst ? b : a, output);
            limiter.Promise(aFirst ? 1 : 0, 5_000, output);
            limiter.Promise(0, ulong.MaxValue, output);
            limiter.Promise(1, ulong.MaxValue, output);
            return Events(output).OrderBy(e => e.Item2).ThenBy(e => e.Item1).ToList();
        }

        List<(int, ulong)> one = Run(aFirst: true);
        List<(int, ulong)> other = Run(aFirst: false);

        Assert.Equal(one, other);
        Assert.Equal(500, one.Count);
        Assert.Equal(one.Count, one.Select(e => e.Item2).Distinct().Count()); // each event has its own slot
    }

    [Fact]
    public void Line_pulses_keep_their_width_when_deferred()
    {
        var limiter = new InterruptRateLimiter(1_000, devices: 1);
        var output = new List<object>();

        for (ulong t = 0; t < 3; t++)
        {
            limiter.Offer(new ScheduleInterrupt("vm", 40, true, t * 100), output);
            limiter.Offer(new ScheduleInterrupt("vm", 40, false, t * 100 + 1), output);
        }

        Assert.Equal([0UL, 1, 10_000, 10_001, 20_000, 20_001], output.Cast<ScheduleInterrupt>().Select(m => m.At));
        Assert.Equal(2, limiter.Deferred);
    }

    [Fact]
    public void The_end_of_a_stream_moves_past_its_deferred_events()
    {
        var limiter = new InterruptRateLimiter(1_000, devices: 1);
        var output = new List<object>();

        limiter.Offer(new GeneratorEvents("vm", 0, 40, [EventRun.Every(0, 1, 3)], 0, EndAt: 3), output);

        GeneratorEvents g = Assert.IsType<GeneratorEvents>(Assert.Single(output));
        Assert.Equal(20_001UL, g.EndAt);
    }
}
