using Hypervisor.Monitor;

namespace Hypervisor.Devices;

/// <summary>
/// One interrupt-generator source's counts since the VM was built (cumulative across guest resets).
/// Plain public fields, written by <see cref="InterruptGenerator"/> on the VM's own thread.
/// </summary>
/// <remarks>
/// The identities the device upholds (docs/interrupt-generator.md):
/// <list type="bullet">
/// <item><c>Raised = Delivered + Coalesced + Awaiting (+ DiscardedHeads)</c>: every raised event either
/// raised the line and was delivered by a PLIC claim, or was merged into another (coalesced), or is the
/// one event still waiting for its claim; a guest reset discards a waiting one.</item>
/// <item><c>Raised = Acknowledged + Pending (+ Discarded)</c>: the guest's acknowledgements.</item>
/// <item><c>Published - Withdrawn = Raised + Queued + Lost</c>, <c>Lost = 0</c>: nothing handed to the
/// device vanishes; local patterns a reset cancels are withdrawn.</item>
/// </list>
/// <see cref="Deferred"/> is orthogonal: how many of the published events the monitor's rate limit moved later.
/// </remarks>
public sealed class SourceAccount
{
    public SourceAccount(int source) => Source = source;

    /// <summary>The PLIC source number (32..63).</summary>
    public int Source { get; }

    /// <summary>Events that reached the device at their time.</summary>
    public long Raised;

    /// <summary>Events that raised the line and were delivered to the guest by a PLIC claim.</summary>
    public long Delivered;

    /// <summary>Events merged into one already waiting for its claim, or acknowledged without a claim of their own.</summary>
    public long Coalesced;

    /// <summary>1 while a raised event waits for the guest to claim its interrupt, else 0.</summary>
    public long Awaiting;

    /// <summary>Events the guest acknowledged (ACK register).</summary>
    public long Acknowledged;

    /// <summary>Events raised and not yet acknowledged.</summary>
    public long Pending;

    /// <summary>Events handed to the device (host traffic and local patterns) whose time has not come.</summary>
    public long Queued;

    /// <summary>Events handed to the device: host traffic and local patterns.</summary>
    public long Published;

    /// <summary>Events of local patterns cancelled by a guest reset before their time.</summary>
    public long Withdrawn;

    /// <summary>Events the monitor's interrupt-rate limit moved later (never dropped).</summary>
    public long Deferred;

    /// <summary>PLIC claims that returned this source (a claim after a partial acknowledgement delivers no new event).</summary>
    public long Claims;

    /// <summary>Pending events a guest reset threw away, and of them the ones waiting for their claim.</summary>
    public long Discarded, DiscardedHeads;

    /// <summary>Events that vanished: <c>Published - Withdrawn - Raised - Queued</c>; 0 unless the device has a bug.</summary>
    public long Lost => Published - Withdrawn - Raised - Queued;

    public SourceStats Snapshot() => new(Source, Raised, Delivered, Coalesced, Deferred, Lost, Pending, Acknowledged, Queued, Claims);
}

/// <summary>One source's figures in <see cref="InterruptStats"/>.</summary>
public sealed record SourceStats(int Source, long Raised, long Delivered, long Coalesced, long Deferred, long Lost,
    long Pending, long Acknowledged, long Queued, long Claims);

/// <summary>
/// A VM's interrupt-generator figures at one moment: totals over its sources, latency from raise to
/// the guest handler's first instruction in virtual time and in host time (nanoseconds), and the
/// active sources. An immutable value carried in every <c>SliceCompleted</c> (VmStats.Storm).
/// </summary>
public sealed record InterruptStats(
    long Raised,
    long Delivered,
    long Coalesced,
    long Deferred,
    long Lost,
    long Pending,
    long Acknowledged,
    long Queued,
    long Claims,
    LatencySummary VirtualLatencyNs,
    LatencySummary HostLatencyNs,
    IReadOnlyList<SourceStats> Sources);

/// <summary>
/// A VM's interrupt accounting (issue 7): per generator source counts (<see cref="SourceAccount"/>)
/// and the raise-to-handler latency histograms, in nanoseconds of virtual time and of host time.
/// Reachable as <c>VirtualMachine.InterruptAccounting</c>; a snapshot of it travels in each slice's
/// statistics; telemetry reads it through <see cref="IInterruptAccounting"/>.
/// </summary>
public sealed class InterruptAccounting : IInterruptAccounting
{
    public InterruptAccounting(int firstSource, int sources)
    {
        FirstSource = firstSource;
        SourceAccounts = new SourceAccount[sources];
        for (int i = 0; i < sources; i++)
        {
            SourceAccounts[i] = new SourceAccount(firstSource + i);
        }
    }

    public int FirstSource { get; }

    /// <summary>Index i holds PLIC source FirstSource + i.</summary>
    public SourceAccount[] SourceAccounts { get; }

    /// <summary>Raise to the handler's first instruction, in nanoseconds of the VM's virtual time (cycles / instructions-per-tick × 100 ns).</summary>
    public LatencyHistogram VirtualLatency { get; } = new();

    /// <summary>Raise to the handler's first instruction, in nanoseconds of host time.</summary>
    public LatencyHistogram HostLatency { get; } = new();

    public long Raised => Sum(a => a.Raised);

    public long Delivered => Sum(a => a.Delivered);

    public long Coalesced => Sum(a => a.Coalesced);

    public long Deferred => Sum(a => a.Deferred);

    public long Lost => Sum(a => a.Lost);

    public long Pending => Sum(a => a.Pending);

    /// <summary>True once any source has seen traffic or a guest acknowledgement.</summary>
    public bool Active => Sum(a => a.Published + a.Deferred + a.Claims) != 0;

    public SourceAccount For(int plicSource) => SourceAccounts[plicSource - FirstSource];

    public InterruptStats Snapshot()
    {
        var sources = new List<SourceStats>();
        foreach (SourceAccount a in SourceAccounts)
        {
            if (a.Published != 0 || a.Deferred != 0 || a.Claims != 0)
            {
                sources.Add(a.Snapshot());
            }
        }
        return new InterruptStats(Raised, Delivered, Coalesced, Deferred, Lost, Pending, Sum(a => a.Acknowledged), Sum(a => a.Queued),
            Sum(a => a.Claims), VirtualLatency.Summary(), HostLatency.Summary(), sources);
    }

    private long Sum(Func<SourceAccount, long> field)
    {
        long n = 0;
        foreach (SourceAccount a in SourceAccounts)
        {
            n += field(a);
        }
        return n;
    }
}
