namespace Hypervisor.Actors.Devices;

/// <summary>Bytes a VM's UART transmitted during one slice.</summary>
public sealed record ConsoleOutput(string Vm, byte[] Bytes);

/// <summary>Writes every buffered byte and partial line out; answered with <see cref="ConsoleFlushed"/>.</summary>
public sealed record FlushConsole
{
    public static readonly FlushConsole Instance = new();
}

public sealed record ConsoleFlushed
{
    public static readonly ConsoleFlushed Instance = new();
}

/// <summary>Where the console actor shows VM output on the terminal (the CLI's stream or live panel).</summary>
public interface IConsoleSink
{
    /// <summary>One complete line (without its newline) that VM <paramref name="vm"/> printed.</summary>
    void Line(string vm, string text);
}
