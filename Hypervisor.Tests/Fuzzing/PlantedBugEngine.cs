using Hypervisor.Cpu;
using Hypervisor.Engines;
using Hypervisor.Isa;
using Hypervisor.Machine;

namespace Hypervisor.Tests.Fuzzing;

/// <summary>
/// A test-only engine decorator with a deliberate bug: it runs the real engine one instruction at a
/// time and, after every retired instruction with <see cref="Trigger"/>'s opcode that writes a
/// register, flips bit 0 of that register (or throws, to plant a host exception). The real engines
/// never see it; the fuzzer tests use it to check that divergences are found and shrunk.
/// </summary>
public sealed class PlantedBugEngine(Func<VirtualMachine> vm, IExecutionEngine inner, Opcode trigger, bool throwInstead = false)
    : IExecutionEngine
{
    public PlantedBugEngine(VirtualMachine vm, IExecutionEngine inner, Opcode trigger, bool throwInstead = false)
        : this(() => vm, inner, trigger, throwInstead)
    {
    }

    public Opcode Trigger { get; } = trigger;

    public string Name => inner.Name + "+planted-bug";

    public EngineStatistics Statistics => inner.Statistics;

    public void FlushCode() => inner.FlushCode();

    public StopReason Run(ulong budget)
    {
        VirtualMachine machine = vm();
        HartState s = machine.State;
        for (ulong i = 0; i < budget; i++)
        {
            uint pc = s.Pc;
            Instruction ins = machine.Ram.Contains(pc) ? Decoder.Decode(machine.Ram.Read(pc - machine.Ram.Base, 4)) : default;
            ulong retired = s.Instret;
            StopReason r = inner.Run(1);
            if (ins.Op == Trigger && s.Instret == retired + 1 && s.Pc == pc + 4 && ins.Rd != 0)
            {
                if (throwInstead)
                {
                    throw new InvalidOperationException($"planted host exception after {Trigger} at 0x{pc:x8}");
                }
                s.X[ins.Rd] ^= 1;
            }
            if (r != StopReason.BudgetExhausted)
            {
                return r;
            }
        }
        return StopReason.BudgetExhausted;
    }

    /// <summary>A lockstep decorator planting this bug into engine B.</summary>
    public static Func<VirtualMachine, IExecutionEngine, IExecutionEngine> Plant(Opcode trigger, bool throwInstead = false) =>
        (vm, engine) => new PlantedBugEngine(vm, engine, trigger, throwInstead);
}
