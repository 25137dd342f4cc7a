using BenchmarkDotNet.Attributes;
using Hypervisor.Loading;
using Hypervisor.Machine;

namespace Hypervisor.Benchmarks;

/// <summary>Whole guests from guests/bin, translation included: what a user of <c>hv run</c> sees.</summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class GuestBenchmarks
{
    private ElfImage _image = null!;

    [Params(EngineKind.Interpreter, EngineKind.BinaryTranslator)]
    public EngineKind Engine { get; set; }

    [Params("bench-compute")]
    public string Guest { get; set; } = "bench-compute";

    [GlobalSetup]
    public void Setup() => _image = ElfImage.Load(BenchGuests.RepoFile($"guests/bin/{Guest}.elf"));

    [Benchmark]
    public ulong RunToPowerOff()
    {
        var vm = new VirtualMachine(Guest, _image, new MachineConfig { Engine = Engine });
        new GuestRunner(vm).Run();
        return vm.State.Instret;
    }
}
