using BenchmarkDotNet.Attributes;
using Hypervisor.Isa;

namespace Hypervisor.Benchmarks;

/// <summary>Decoding cost: how long one instruction word takes to become an <see cref="Instruction"/>.</summary>
[MemoryDiagnoser]
public class DecoderBenchmarks
{
    private uint[] _words = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        var ops = Enum.GetValues<Opcode>().Where(o => o > Opcode.Nop).ToArray();
        _words = Enumerable.Range(0, 1024).Select(_ => Encoder.Encode(ops[rng.Next(ops.Length)], rng.Next(32), rng.Next(32), rng.Next(32), rng.Next(-2048, 2048) & ~1)).ToArray();
    }

    [Benchmark(OperationsPerInvoke = 1024)]
    public int Decode1024()
    {
        int sum = 0;
        foreach (uint w in _words)
        {
            sum += (int)Decoder.Decode(w).Op;
        }
        return sum;
    }
}
