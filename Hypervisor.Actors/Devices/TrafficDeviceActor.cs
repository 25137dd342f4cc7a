using Akka.Actor;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Vm;
using Hypervisor.Devices;

namespace Hypervisor.Actors.Devices;

/// <summary>
/// A device actor that drives one interrupt-generator source of one VM with a traffic pattern
/// (<see cref="TrafficPattern"/>: steady rate, Poisson, bursts, storm), in the shape of
/// <see cref="PulseDeviceActor"/>: it never fires "now". Asked with <see cref="DemandEvents"/>, it
/// publishes every arrival before the demanded time as one <see cref="GeneratorEvents"/> (a few runs,
/// however many events) and then promises <see cref="SourceHorizon"/>, both through the monitor, which
/// applies the VM's interrupt-rate limit (deferring, never dropping). The VM is never granted a slice
/// past the promise, so each event lands at its exact instruction whatever the host did.
/// </summary>
public sealed class TrafficDeviceActor : ReceiveActor
{
    private readonly string _vm;
    private readonly int _device;
    private readonly DeviceSpec _spec;
    private readonly IActorRef _monitor;
    private readonly TrafficPattern _pattern;
    private readonly List<EventRun> _runs = [];
    private ulong _published;
    private bool _endSent;

    public TrafficDeviceActor(string vm, int device, DeviceSpec spec, IActorRef monitor)
    {
        _vm = vm;
        _device = device;
        _spec = spec;
        _monitor = monitor;
        _pattern = TrafficPattern.For(spec);
        Receive<DemandEvents>(OnDemand);
    }

    public static Props Props(string vm, int device, DeviceSpec spec, IActorRef monitor) =>
        Akka.Actor.Props.Create(() => new TrafficDeviceActor(vm, device, spec, monitor));

    private void OnDemand(DemandEvents m)
    {
        if (m.Until <= _published)
        {
            return;
        }
        _runs.Clear();
        _pattern.Publish(m.Until, _runs);
        bool end = _pattern.Finished && !_endSent;
        if (_runs.Count > 0 || end)
        {
            _monitor.Tell(new GeneratorEvents(_vm, _device, _spec.Source, [.. _runs], 0, _pattern.Finished ? _pattern.EndAt : ulong.MaxValue));
            _endSent |= end;
        }
        _published = _pattern.Finished ? ulong.MaxValue : m.Until;
        _monitor.Tell(new SourceHorizon(_vm, _device, _published));
    }
}
