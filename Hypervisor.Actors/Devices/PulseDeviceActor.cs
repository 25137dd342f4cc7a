using Akka.Actor;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Vm;

namespace Hypervisor.Actors.Devices;

/// <summary>
/// A device actor that raises PLIC line <see cref="DeviceSpec.Source"/> of one VM periodically
/// (virtual time): at start, start + period, ..., each pulse held for <see cref="DeviceSpec.WidthTicks"/>.
/// </summary>
/// <remarks>
/// It never fires "now": asked with <see cref="DemandEvents"/>, it publishes every edge before the
/// demanded time as <see cref="ScheduleInterrupt"/> and then promises <see cref="SourceHorizon"/>,
/// all through the monitor (which checks isolation and rate limits). The VM is never granted a
/// slice past the promise, so each edge lands at its exact instruction whatever the host did.
/// The interrupt generator's traffic patterns (<see cref="TrafficDeviceActor"/>) have the same shape.
/// </remarks>
public sealed class PulseDeviceActor : ReceiveActor
{
    private readonly string _vm;
    private readonly int _sourceId;
    private readonly DeviceSpec _spec;
    private readonly IActorRef _monitor;
    private long _next;
    private ulong _published;

    public PulseDeviceActor(string vm, int sourceId, DeviceSpec spec, IActorRef monitor)
    {
        _vm = vm;
        _sourceId = sourceId;
        _spec = spec;
        _monitor = monitor;
        Receive<DemandEvents>(OnDemand);
    }

    public static Props Props(string vm, int sourceId, DeviceSpec spec, IActorRef monitor) =>
        Akka.Actor.Props.Create(() => new PulseDeviceActor(vm, sourceId, spec, monitor));

    private ulong PulseAt(long k)
    {
        UInt128 t = (UInt128)_spec.StartTicks + (UInt128)_spec.PeriodTicks * (ulong)k;
        return t >= ulong.MaxValue ? ulong.MaxValue : (ulong)t;
    }

    private void OnDemand(DemandEvents m)
    {
        if (m.Until <= _published)
        {
            return;
        }
        while ((_spec.Count == 0 || _next < _spec.Count) && PulseAt(_next) < m.Until)
        {
            ulong at = PulseAt(_next);
            _monitor.Tell(new ScheduleInterrupt(_vm, _spec.Source, true, at, _sourceId));
            _monitor.Tell(new ScheduleInterrupt(_vm, _spec.Source, false, at + _spec.WidthTicks, _sourceId));
            _next++;
        }
        bool finished = _spec.Count != 0 && _next >= _spec.Count;
        _published = finished ? ulong.MaxValue : m.Until;
        _monitor.Tell(new SourceHorizon(_vm, _sourceId, _published));
    }
}
