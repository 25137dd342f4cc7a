using System.Diagnostics;
using Hypervisor.Actors.Telemetry;
using Hypervisor.Actors.Vm;
using Hypervisor.Machine;

namespace Hypervisor.Cli.Telemetry;

/// <summary>
/// Telemetry for <c>hv run guest.elf</c> (one VM on the calling thread, no actors): the same spans,
/// metrics and trace file as a fleet of one, each slice recorded when the runner is between slices.
/// </summary>
internal sealed class SingleVmTelemetry : IDisposable
{
    private readonly TelemetryPipeline _pipeline;
    private readonly FleetTelemetry _fleet;
    private readonly VmTelemetry _vm;
    private readonly VirtualMachine _machine;
    private DateTimeOffset _sliceStart = DateTimeOffset.UtcNow;
    private long _sliceTimestamp = Stopwatch.GetTimestamp();
    private ulong _executed;
    private long _interrupts;
    private long _seq;

    private SingleVmTelemetry(TelemetryPipeline pipeline, FleetTelemetry fleet, VmTelemetry vm, VirtualMachine machine)
    {
        _pipeline = pipeline;
        _fleet = fleet;
        _vm = vm;
        _machine = machine;
        _executed = machine.State.Executed;
        _interrupts = Interrupts();
    }

    public TelemetryPipeline Pipeline => _pipeline;

    /// <summary>Null when the options ask for no telemetry.</summary>
    public static SingleVmTelemetry? Start(TelemetryOverrides options, VirtualMachine vm, string target, long createdTimestamp)
    {
        TelemetrySettings settings = options.Apply(TelemetrySettings.Default);
        if (!settings.AnyOutput)
        {
            return null;
        }
        TelemetryPipeline pipeline = TelemetryOverrides.Start(settings, options.TraceOut is not null ? "--trace-out" : "telemetry", 1);
        var fleet = new FleetTelemetry(settings, target, 1, GuestRunner.DefaultSlice);
        var telemetry = new VmTelemetry(fleet, vm.Name, 0, vm.Engine.Name);
        telemetry.Created(vm, createdTimestamp);
        return new SingleVmTelemetry(pipeline, fleet, telemetry, vm);
    }

    /// <summary>Called after each slice of the runner.</summary>
    public void SliceDone()
    {
        long now = Stopwatch.GetTimestamp();
        ulong executed = _machine.State.Executed;
        long interrupts = Interrupts();
        SliceEnd reason = _machine.VmState switch
        {
            VmState.PoweredOff => SliceEnd.PowerOff,
            VmState.Faulted => SliceEnd.GuestFault,
            VmState.Idle => SliceEnd.Idle,
            _ => SliceEnd.BudgetExhausted,
        };
        var slice = new SliceStats(executed - _executed, Stopwatch.GetElapsedTime(_sliceTimestamp, now).TotalSeconds, interrupts - _interrupts);
        _vm.RecordSlice(++_seq, GuestRunner.DefaultSlice, _sliceStart, slice, reason);
        _executed = executed;
        _interrupts = interrupts;
        _sliceTimestamp = Stopwatch.GetTimestamp();
        _sliceStart = DateTimeOffset.UtcNow;
    }

    public void Dispose()
    {
        _fleet.Completed(_seq, interrupted: false, null);
        _pipeline.CollectMetrics();
        _vm.Stopping();
        _vm.Ended();
        _fleet.Dispose();
        _pipeline.Dispose();
    }

    private long Interrupts()
    {
        long n = 0;
        foreach (long c in _machine.Hart.InterruptsTaken)
        {
            n += c;
        }
        return n;
    }
}
