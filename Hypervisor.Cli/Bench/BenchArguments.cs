using System.Globalization;

namespace Hypervisor.Cli.Bench;

/// <summary>The checks the fleet benchmarks share: each bad number is named with its option and value.</summary>
internal static class BenchArguments
{
    public static void Check(int vms, int count, string countOption, double seconds, double warmup, ulong slice)
    {
        if (vms < 1)
        {
            throw new CliException($"--vms: must be at least 1 (got {vms})");
        }
        if (count < 1)
        {
            throw new CliException($"{countOption}: must be at least 1 (got {count})");
        }
        if (!(seconds > 0) || double.IsInfinity(seconds))
        {
            throw new CliException($"--seconds: must be a number of seconds above 0 (got {seconds.ToString(CultureInfo.InvariantCulture)})");
        }
        if (!(warmup >= 0) || double.IsInfinity(warmup))
        {
            throw new CliException($"--warmup: must be a number of seconds, 0 or more (got {warmup.ToString(CultureInfo.InvariantCulture)})");
        }
        if (slice < 1000)
        {
            throw new CliException($"--slice: must be at least 1000 (got {slice})");
        }
    }
}
