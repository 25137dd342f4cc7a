using BenchmarkDotNet.Attributes;
using Hypervisor.Machine;

namespace Hypervisor.Benchmarks;

/// <summary>
/// Engine hot paths on tiny guests: straight ALU code, memory access through the TLB, calls and
/// returns within a page (inside one translated region) and across pages (transfers between regions). Each invocation runs one million guest instructions,
/// after a warm-up slice that has translated the code.
/// </summary>
public class EngineBenchmarks
{
    private const int Instructions = 1_000_000;
    private VirtualMachine _vm = null!;

    [Params(EngineKind.Interpreter, EngineKind.BinaryTranslator)]
    public EngineKind Engine { get; set; }

    [Params("alu", "memory", "call-return", "call-far")]
    public string Workload { get; set; } = "alu";

    [GlobalSetup]
    public void Setup()
    {
        IReadOnlyList<uint> words = Workload switch
        {
            "alu" => BenchGuests.AluLoop(24),
            "memory" => BenchGuests.MemoryLoop(),
            "call-return" => BenchGuests.CallReturnLoop(),
            _ => BenchGuests.CallFarLoop(),
        };
        _vm = BenchGuests.Build(words, Engine);
        _vm.RunSlice(Instructions);
    }

    [Benchmark(OperationsPerInvoke = Instructions)]
    public ulong Run() => _vm.RunSlice(Instructions).Executed;
}
