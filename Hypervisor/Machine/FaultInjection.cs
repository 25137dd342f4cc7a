using Hypervisor.Cpu;
using Hypervisor.Engines;

namespace Hypervisor.Machine;

/// <summary>What an injected fault does to a VM's engine.</summary>
public enum FaultKind
{
    /// <summary>Nothing is injected.</summary>
    None,

    /// <summary>The engine throws a host exception, as a bug in an engine would.</summary>
    HostException,
}

/// <summary>
/// A fault to inject into one VM's engine (the scenario key <c>fault-injection</c>): the robustness
/// tests use it to check that supervision isolates a VM whose engine fails and applies its restart
/// policy while every other VM carries on.
/// </summary>
/// <param name="Kind">What happens.</param>
/// <param name="AtInstret">The VM's retired-instruction count (instret) at which it happens.</param>
public sealed record FaultInjection(FaultKind Kind, ulong AtInstret)
{
    public static readonly FaultInjection None = new(FaultKind.None, 0);

    public bool Enabled => Kind != FaultKind.None;

    /// <summary>Parses a kind as the scenario spells it: none, host-exception.</summary>
    public static bool TryParseKind(string text, out FaultKind kind)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "none": kind = FaultKind.None; return true;
            case "host-exception": kind = FaultKind.HostException; return true;
            default: kind = default; return false;
        }
    }

    /// <summary>
    /// A <see cref="VirtualMachine"/> <c>wrapEngine</c> decorator that injects this fault, around
    /// <paramref name="inner"/> (another decorator, or null). <paramref name="state"/> gives the
    /// VM's hart state once the VM exists (the decorator is built inside the VM's constructor).
    /// </summary>
    public Func<IExecutionEngine, IExecutionEngine> Decorator(Func<HartState> state, Func<IExecutionEngine, IExecutionEngine>? inner = null) =>
        engine => new FaultInjectingEngine(inner is null ? engine : inner(engine), this, state);
}

/// <summary>The host exception a <see cref="FaultInjection"/> makes an engine throw.</summary>
public sealed class InjectedFaultException(ulong instret)
    : Exception($"fault injection: host exception at instret {instret} (fault-injection.kind = host-exception)")
{
    public ulong Instret { get; } = instret;
}

/// <summary>
/// An engine decorator that runs the real engine up to the fault's instret exactly (by cutting its
/// budgets there; where a budget ends never changes what a guest executes) and then throws, once.
/// </summary>
public sealed class FaultInjectingEngine(IExecutionEngine inner, FaultInjection fault, Func<HartState> state) : IExecutionEngine
{
    private bool _fired;

    public string Name => inner.Name;

    public EngineStatistics Statistics => inner.Statistics;

    /// <summary>True once the fault has struck.</summary>
    public bool Fired => _fired;

    public void FlushCode() => inner.FlushCode();

    public StopReason Run(ulong budget)
    {
        if (_fired || !fault.Enabled)
        {
            return inner.Run(budget);
        }
        ulong instret = state().Instret;
        if (instret >= fault.AtInstret)
        {
            _fired = true;
            throw new InjectedFaultException(instret);
        }
        // Every instruction executed retires at most one: this never runs past the fault's instret.
        return inner.Run(Math.Min(budget, fault.AtInstret - instret));
    }
}
