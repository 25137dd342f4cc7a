using Akka.Actor;
using Akka.Configuration;
using Hypervisor.Actors.Config;
using Hypervisor.Actors.Supervision;
using Hypervisor.Actors.Vm;

namespace Hypervisor.Actors.Hosting;

/// <summary>
/// Runs a scenario: one actor system, the supervisor and its fleet. The composition root of the
/// actor layer, used by <c>hv run scenario.hocon</c>, the benchmarks and the tests.
/// </summary>
public sealed class FleetHost : IAsyncDisposable
{
    private FleetHost(ActorSystem system, IActorRef supervisor, string? outputDir)
    {
        System = system;
        Supervisor = supervisor;
        OutputDir = outputDir;
        Completion = supervisor.Ask<FleetCompleted>(WaitForFleet.Instance, Timeout.InfiniteTimeSpan);
    }

    public ActorSystem System { get; }

    public IActorRef Supervisor { get; }

    /// <summary>The run's output folder (per-VM transcripts), if any.</summary>
    public string? OutputDir { get; }

    /// <summary>Completes when every VM has ended (or was stopped).</summary>
    public Task<FleetCompleted> Completion { get; }

    /// <summary>
    /// The actor system's configuration: logging through Serilog when asked, the VM dispatcher sized
    /// to host-parallelism, the scenario's own <c>akka</c> overrides, and the reference defaults.
    /// </summary>
    public static Akka.Configuration.Config ActorSystemConfig(Scenario scenario, bool serilog)
    {
        string logging = serilog
            ? """
              akka.loggers = ["Akka.Logger.Serilog.SerilogLogger, Akka.Logger.Serilog"]
              akka.logger-formatter = "Akka.Logger.Serilog.SerilogLogMessageFormatter, Akka.Logger.Serilog"
              akka.loglevel = INFO
              akka.stdout-loglevel = OFF
              """
            : """
              akka.loglevel = WARNING
              akka.stdout-loglevel = WARNING
              """;
        string text = $"""
            {logging}
            akka.log-dead-letters = 0
            akka.log-dead-letters-during-shutdown = off
            akka.actor.guardian-supervisor-strategy = "Akka.Actor.DefaultSupervisorStrategy"
            hypervisor.vm-dispatcher.dedicated-thread-pool.thread-count = {scenario.Settings.HostParallelism}
            """;
        Akka.Configuration.Config config = ConfigurationFactory.ParseString(text);
        if (scenario.AkkaOverrides.Length > 0)
        {
            config = ConfigurationFactory.ParseString(scenario.AkkaOverrides).WithFallback(config);
        }
        return config.WithFallback(ConfigurationFactory.ParseString(ScenarioLoader.ReferenceText));
    }

    /// <summary>Starts the fleet. <paramref name="options"/> name the output folder and the terminal sink.</summary>
    public static FleetHost Start(Scenario scenario, SupervisorOptions options, bool serilog = false, string systemName = "hv")
    {
        if (options.OutputDir is not null)
        {
            Directory.CreateDirectory(options.OutputDir);
        }
        ActorSystem system;
        try
        {
            system = ActorSystem.Create(systemName, ActorSystemConfig(scenario, serilog));
        }
        catch (Exception e)
        {
            // The scenario's own akka block reaches Akka only here: its refusal is a bad scenario.
            throw new ScenarioException(scenario.File, "akka", $"Akka refused the configuration: {FirstLine(e)}", e);
        }
        try
        {
            system.Dispatchers.Lookup(VmActor.Dispatcher);
        }
        catch (Exception e)
        {
            // Checked before any VM actor exists: a VM actor that cannot be created would leave the fleet waiting forever.
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            throw new ScenarioException(scenario.File, VmActor.Dispatcher, $"Akka cannot build this dispatcher: {FirstLine(e)}", e);
        }
        IActorRef supervisor = system.ActorOf(HypervisorSupervisor.Props(scenario, options), "hypervisor");
        return new FleetHost(system, supervisor, options.OutputDir);
    }

    public Task<FleetStatus> StatusAsync(TimeSpan? timeout = null) =>
        Supervisor.Ask<FleetStatus>(GetFleetStatus.Instance, timeout ?? TimeSpan.FromSeconds(30));

    /// <summary>Stops every VM; <see cref="Completion"/> then completes with their state.</summary>
    public void Stop(string reason) => Supervisor.Tell(new StopFleet(reason));

    public void FeedInput(string vm, byte[] bytes) => Supervisor.Tell(new FeedInput(vm, bytes));

    public async ValueTask DisposeAsync()
    {
        await System.Terminate().ConfigureAwait(false);
    }

    /// <summary>The innermost exception's first line: Akka wraps the cause and appends multi-line detail.</summary>
    private static string FirstLine(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        string message = e.Message;
        int newline = message.IndexOfAny(['\r', '\n']);
        return newline < 0 ? message : message[..newline];
    }
}
