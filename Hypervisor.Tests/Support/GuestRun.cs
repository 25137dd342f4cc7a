using System.Text;
using Hypervisor.Loading;
using Hypervisor.Machine;

namespace Hypervisor.Tests.Support;

/// <summary>Runs a guest ELF to its end in-process and captures what a test compares.</summary>
public sealed class GuestRun
{
    private readonly MemoryStream _output = new();

    public GuestRun(string elfPath, EngineKind engine = EngineKind.Interpreter, string? input = null, MachineConfig? config = null)
        : this(elfPath, (config ?? new MachineConfig()) with { Engine = engine }, input)
    {
    }

    /// <summary>Runs on the engine configuration an <see cref="EngineMatrix"/> entry names.</summary>
    public GuestRun(string elfPath, string engine, string? input = null)
        : this(elfPath, EngineMatrix.Config(engine), input)
    {
    }

    private GuestRun(string elfPath, MachineConfig config, string? input)
    {
        var image = ElfImage.Load(elfPath);
        Vm = new VirtualMachine(Path.GetFileNameWithoutExtension(elfPath), image, config, b => _output.WriteByte(b));
        if (input is not null)
        {
            Vm.Uart.Receive(Encoding.UTF8.GetBytes(input));
        }
    }

    public VirtualMachine Vm { get; }

    public string Output => Encoding.UTF8.GetString(_output.ToArray());

    public RunSummary Run(ulong maxInstructions = 2_000_000_000) => new GuestRunner(Vm).Run(maxInstructions);
}
