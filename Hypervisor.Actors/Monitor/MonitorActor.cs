using Akka.Actor;
using Akka.Event;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Vm;
using Hypervisor.Devices;

namespace Hypervisor.Actors.Monitor;

/// <summary>
/// The clock arbiter and isolation authority across VMs (DESIGN.md §3, §4). Every interrupt a
/// device actor injects passes through here: it may only reach a VM the monitor knows, on a PLIC
/// line that exists, and at most at the VM's interrupt-rate limit — events above it are deferred
/// in virtual time (never dropped), deterministically. It also watches per-VM quotas (memory: the
/// guest's stores past its quota fault; the first refusal is reported) and publishes the fleet's
/// virtual time, which the supervisor keeps.
/// </summary>
public sealed class MonitorActor : ReceiveActor
{
    private readonly IActorRef _supervisor;
    private readonly Dictionary<string, VmRules> _vms = new(StringComparer.Ordinal);
    private readonly List<IsolationViolation> _violations = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ulong _fleetTime;

    private sealed class VmRules(long rateLimit, long? memoryQuota, int devices)
    {
        public readonly long RateLimit = rateLimit;
        public readonly long? MemoryQuota = memoryQuota;
        public bool MemoryReported;

        /// <summary>The VM's interrupt-rate limit (null: none): defers, never drops, and merges several devices deterministically.</summary>
        public readonly InterruptRateLimiter? Limiter = rateLimit > 0 ? new InterruptRateLimiter(rateLimit, devices) : null;

        public long Deferred => Limiter?.Deferred ?? 0;
    }

    private readonly List<object> _released = [];

    public MonitorActor(IActorRef supervisor)
    {
        _supervisor = supervisor;
        Receive<RegisterVm>(m => _vms[m.Vm] = new VmRules(m.InterruptRateLimit, m.MemoryQuota, m.Devices));
        Receive<ScheduleInterrupt>(OnInterrupt);
        Receive<GeneratorEvents>(OnGeneratorEvents);
        Receive<SourceHorizon>(m =>
        {
            if (_vms.TryGetValue(m.Vm, out VmRules? rules))
            {
                rules.Limiter?.Promise(m.Source, m.Until, _released);
                Release();
                _supervisor.Tell(m); // after the events it covers
            }
        });
        Receive<SliceAccounted>(OnSlice);
        Receive<FleetTimeAdvanced>(m => _fleetTime = Math.Max(_fleetTime, m.FleetTime));
        Receive<GetMonitorReport>(_ => Sender.Tell(new MonitorReport(_fleetTime,
            _vms.Where(kv => kv.Value.Deferred > 0).ToDictionary(kv => kv.Key, kv => kv.Value.Deferred),
            _violations.ToArray())));
    }

    public static Props Props(IActorRef supervisor) => Akka.Actor.Props.Create(() => new MonitorActor(supervisor));

    private void OnInterrupt(ScheduleInterrupt m)
    {
        if (!_vms.TryGetValue(m.Vm, out VmRules? rules))
        {
            Violation(new IsolationViolation(m.Vm, "unknown-vm", $"interrupt for a VM that does not exist (from {Sender.Path})"));
            return;
        }
        if (m.Source <= 0 || m.Source >= Plic.Sources)
        {
            Violation(new IsolationViolation(m.Vm, "no-such-line", $"PLIC source {m.Source} does not exist"));
            return;
        }
        if (rules.Limiter is { } limiter)
        {
            limiter.Offer(m, _released);
            Release();
            return;
        }
        _supervisor.Tell(m);
    }

    private void OnGeneratorEvents(GeneratorEvents m)
    {
        if (!_vms.TryGetValue(m.Vm, out VmRules? rules))
        {
            Violation(new IsolationViolation(m.Vm, "unknown-vm", $"interrupt events for a VM that does not exist (from {Sender.Path})"));
            return;
        }
        if (m.Source < InterruptGenerator.FirstSource || m.Source >= InterruptGenerator.FirstSource + InterruptGenerator.SourceCount)
        {
            Violation(new IsolationViolation(m.Vm, "no-such-line", $"the interrupt generator has no source {m.Source}"));
            return;
        }
        if (rules.Limiter is { } limiter)
        {
            limiter.Offer(m, _released);
            Release();
            return;
        }
        _supervisor.Tell(m);
    }

    /// <summary>Forwards what the rate limit let through, in order.</summary>
    private void Release()
    {
        foreach (object m in _released)
        {
            _supervisor.Tell(m);
        }
        _released.Clear();
    }

    private void OnSlice(SliceAccounted m)
    {
        if (_vms.TryGetValue(m.Vm, out VmRules? rules) && !rules.MemoryReported && m.Stats.QuotaRefusals > 0)
        {
            rules.MemoryReported = true;
            Violation(new IsolationViolation(m.Vm, "memory-quota",
                $"stores refused at the memory quota of {rules.MemoryQuota} bytes (resident {m.Stats.ResidentBytes})"));
        }
    }

    private void Violation(IsolationViolation v)
    {
        _violations.Add(v);
        _log.Warning("monitor: {0}: {1}: {2}", v.Vm, v.Rule, v.Detail);
        Context.System.EventStream.Publish(v);
    }
}
