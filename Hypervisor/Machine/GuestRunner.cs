using System.Diagnostics;
using Hypervisor.Cpu;

namespace Hypervisor.Machine;

/// <summary>How a run of one guest ended.</summary>
public enum RunEnd
{
    PoweredOff,
    InstructionLimit,
    GuestFault,
    HaltedIdle,
    Interrupted,
}

/// <summary>The summary of running one guest to its end.</summary>
public sealed record RunSummary(
    RunEnd End,
    int? GuestCode,
    ulong Instret,
    ulong Cycles,
    double WallSeconds,
    string Engine,
    GuestFaultReport? Fault)
{
    public double Mips => WallSeconds > 0 ? Instret / WallSeconds / 1e6 : 0;

    /// <summary>
    /// The process exit code: 0 on pass, the guest's fail code otherwise (truncated to 8 bits as the
    /// OS does, never to 0), and distinct codes for the ends that are not the guest's choice.
    /// </summary>
    public int ProcessExitCode => End switch
    {
        RunEnd.PoweredOff => GuestCode is 0 or null ? 0 : (GuestCode.Value & 0xFF) == 0 ? 1 : GuestCode.Value & 0xFF,
        RunEnd.InstructionLimit => ExitCodes.InstructionLimit,
        RunEnd.GuestFault => ExitCodes.GuestFault,
        RunEnd.HaltedIdle => ExitCodes.HaltedIdle,
        _ => ExitCodes.Interrupted,
    };
}

/// <summary>Process exit codes of <c>hv</c> that are not a guest's own.</summary>
public static class ExitCodes
{
    public const int Usage = 2;
    public const int InstructionLimit = 124;
    public const int GuestFault = 125;
    public const int HaltedIdle = 126;
    public const int Interrupted = 130;
}

/// <summary>Runs one VM to power-off (or a limit) in slices on the calling thread: what <c>hv run guest.elf</c> and the guest tests do.</summary>
public sealed class GuestRunner
{
    public const ulong DefaultSlice = 1_000_000;

    private readonly VirtualMachine _vm;

    public GuestRunner(VirtualMachine vm) => _vm = vm;

    /// <summary>Called between slices (e.g. to flush console output).</summary>
    public Action? BetweenSlices { get; set; }

    /// <summary>
    /// When the guest idles with nothing that can wake it, this is asked whether more console input
    /// may still come; it should wait a little for it and return false once input has ended.
    /// </summary>
    public Func<bool>? WaitForInput { get; set; }

    public RunSummary Run(ulong maxInstructions = ulong.MaxValue, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        ulong startInstret = _vm.State.Instret;
        RunEnd end;
        while (true)
        {
            if (cancel.IsCancellationRequested)
            {
                end = RunEnd.Interrupted;
                break;
            }
            ulong done = _vm.State.Executed;
            if (done >= maxInstructions)
            {
                end = RunEnd.InstructionLimit;
                break;
            }
            SliceOutcome o = _vm.RunSlice(Math.Min(DefaultSlice, maxInstructions - done));
            BetweenSlices?.Invoke();
            if (o.Reason == StopReason.PowerOff)
            {
                end = RunEnd.PoweredOff;
                break;
            }
            if (o.Reason == StopReason.GuestFault)
            {
                end = RunEnd.GuestFault;
                break;
            }
            if (o.Reason == StopReason.Idle && !_vm.Uart.HasIncoming)
            {
                if (_vm.Clock.Mode == Monitor.TimeMode.Realtime && (_vm.Events.NextDue != ulong.MaxValue))
                {
                    Thread.Sleep(1); // realtime: let host time reach the next timer
                    continue;
                }
                if (WaitForInput is null || !WaitForInput())
                {
                    end = RunEnd.HaltedIdle;
                    break;
                }
            }
        }
        clock.Stop();
        return new RunSummary(end, _vm.ExitCode, _vm.State.Instret - startInstret, _vm.State.Cycle,
            clock.Elapsed.TotalSeconds, _vm.Engine.Name, _vm.Fault);
    }
}
