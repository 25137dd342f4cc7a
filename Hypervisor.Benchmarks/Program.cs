using BenchmarkDotNet.Running;

// dotnet run -c Release --project Hypervisor.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Hypervisor.Benchmarks.DecoderBenchmarks).Assembly).Run(args);
