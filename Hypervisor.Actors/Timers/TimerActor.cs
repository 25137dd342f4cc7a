using Akka.Actor;
using Hypervisor.Actors.Supervision;

namespace Hypervisor.Actors.Timers;

/// <summary>
/// Drives timer expiry of parked realtime-mode VMs by the host clock: a VM idle in WFI whose
/// mtimecmp lies ahead is woken when the host time reaches it (never earlier than the wake
/// slack, so that thousands of sleeping VMs cost a batch of wake-ups, not a busy loop).
/// </summary>
/// <remarks>
/// Catch-up policy for missed ticks: coalesce. A VM that could not run when its timer expired
/// (the host was busy) is woken once; the guest sees one timer interrupt and a late mtime, and a
/// periodic guest tick re-arms from the present, as Linux does after a long pause. Missed ticks are
/// never replayed in a burst. In virtual mode no timer actor is involved: timer expiry is an event
/// on the VM's own queue, applied at its exact cycle, and parked VMs wake by the fleet's virtual clock.
/// </remarks>
public sealed class TimerActor : ReceiveActor
{
    public TimerActor(IActorRef supervisor, TimeSpan slack)
    {
        Receive<ArmWake>(m =>
        {
            TimeSpan delay = m.Delay < slack ? slack : m.Delay;
            Context.System.Scheduler.ScheduleTellOnce(delay, supervisor, new WakeDue(m.VmId, m.Generation), Self);
        });
    }

    public static Props Props(IActorRef supervisor, TimeSpan slack) =>
        Akka.Actor.Props.Create(() => new TimerActor(supervisor, slack));
}
