using Hypervisor.Machine;

namespace Hypervisor.Actors.Config;

/// <summary>What the supervisor does when a VM's engine throws a host exception.</summary>
public enum RestartPolicy
{
    /// <summary>Stop the VM and report it with its state; the others go on.</summary>
    Stop,

    /// <summary>Build the VM again from its image and boot it.</summary>
    Restart,
}

/// <summary>Run-wide settings of a scenario (the <c>hypervisor</c> block minus the VMs).</summary>
public sealed record HypervisorSettings
{
    public int HostParallelism { get; init; } = Environment.ProcessorCount;

    public ulong SliceInstructions { get; init; } = 1_000_000;

    public TimeSpan CapPeriod { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>mtime ticks a sleeping VM may skip ahead of the fleet's virtual time.</summary>
    public ulong IdleLookaheadTicks { get; init; } = 10_000;

    /// <summary>mtime ticks ahead of a VM's clock its device sources are asked to publish.</summary>
    public ulong SourceWindowTicks { get; init; } = 100_000;

    public TimeSpan RealtimeWakeSlack { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>The output folder pattern ("{timestamp}" is replaced at start).</summary>
    public string OutputDir { get; init; } = "runs/{timestamp}";

    public bool TerminalOutput { get; init; } = true;

    public string TerminalLogLevel { get; init; } = "warning";

    public string FileLogLevel { get; init; } = "information";

    /// <summary>Host time after which the fleet is stopped; null = until every VM ends.</summary>
    public TimeSpan? StopAfter { get; init; }

    /// <summary>Spans, metrics and their exporters (the <c>telemetry</c> block; docs/telemetry.md).</summary>
    public Telemetry.TelemetrySettings Telemetry { get; init; } = Hypervisor.Actors.Telemetry.TelemetrySettings.Default;
}

/// <summary>Console input of one VM: bytes fed to its UART at a virtual time.</summary>
public sealed record ConsoleSpec(byte[] Input, ulong InputAtTicks)
{
    public static readonly ConsoleSpec None = new([], 0);
}

/// <summary>
/// A device actor attached to a VM: a periodic pulse on a PLIC line (<c>pulse</c>), or traffic for
/// an interrupt-generator source 32..63 (<c>steady</c>, <c>poisson</c>, <c>burst</c>, <c>storm</c>;
/// docs/interrupt-generator.md). Times are mtime ticks; <paramref name="Rate"/> is events per second of
/// virtual time; <paramref name="Count"/> is pulses, events (steady, storm, poisson) or bursts (0 = no
/// limit); <paramref name="DurationTicks"/> bounds the traffic after its start (0 = none).
/// </summary>
public sealed record DeviceSpec(string Type, int Source, ulong PeriodTicks, ulong StartTicks, ulong WidthTicks, long Count,
    long Rate = 0, int Burst = 0, ulong Seed = 0, ulong DurationTicks = 0)
{
    /// <summary>True for the traffic types that drive the interrupt generator.</summary>
    public bool DrivesGenerator => Devices.TrafficPattern.IsGeneratorType(Type);
}

/// <summary>One VM of a scenario, after `count` has been stamped out.</summary>
public sealed record VmSpec
{
    public required string Name { get; init; }

    /// <summary>Absolute path of the guest ELF.</summary>
    public required string ImagePath { get; init; }

    public MachineConfig Machine { get; init; } = new();

    public int Weight { get; init; } = 1;

    /// <summary>Most host CPU in percent of one core; 0 = no cap.</summary>
    public int CapPercent { get; init; }

    /// <summary>Instructions-per-slice quota; 0 = the scheduler's slice.</summary>
    public ulong SliceQuota { get; init; }

    public RestartPolicy Restart { get; init; } = RestartPolicy.Stop;

    /// <summary>A fault injected into the VM's engine on its first boot (robustness tests); none by default.</summary>
    public FaultInjection FaultInjection { get; init; } = FaultInjection.None;

    /// <summary>Interrupt events per virtual second device actors may deliver; 0 = no limit.</summary>
    public long InterruptRateLimit { get; init; }

    public ConsoleSpec Console { get; init; } = ConsoleSpec.None;

    public IReadOnlyList<DeviceSpec> Devices { get; init; } = [];
}

/// <summary>A loaded, validated scenario: everything needed to start a fleet, nothing half-configured.</summary>
/// <remarks><see cref="AkkaOverrides"/> is the scenario's HOCON text when it configures the actor system (an <c>akka</c> block or <c>hypervisor.vm-dispatcher</c>), else empty.</remarks>
public sealed record Scenario(string File, HypervisorSettings Settings, IReadOnlyList<VmSpec> Vms, string AkkaOverrides)
{
    /// <summary>A scenario of one VM per spec with default settings (tests, benchmarks).</summary>
    public static Scenario Of(HypervisorSettings settings, params VmSpec[] vms) => new("(inline)", settings, vms, "");
}
