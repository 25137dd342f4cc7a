namespace Hypervisor.Cli;

/// <summary>The streams a command talks to: the real console, or buffers in tests.</summary>
/// <param name="Out">Raw standard output: guest console bytes and the --json line.</param>
/// <param name="Error">Diagnostics and the one-line summary.</param>
/// <param name="In">Standard input, forwarded to the guest's UART; null when there is none.</param>
public sealed record CliContext(Stream Out, TextWriter Error, Stream? In, CancellationToken Cancel = default)
{
    public static CliContext FromConsole()
    {
        var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // First Ctrl-C stops the run cleanly (the summary is still printed); a second one kills.
            if (!cts.IsCancellationRequested)
            {
                e.Cancel = true;
                cts.Cancel();
            }
        };
        return new CliContext(Console.OpenStandardOutput(), Console.Error, Console.OpenStandardInput(), cts.Token)
        {
            IsProcessConsole = true,
        };
    }

    /// <summary>True when the streams are the process's own console (a live table and Serilog's console sink may use it).</summary>
    public bool IsProcessConsole { get; init; }

    /// <summary>Writes one line of text to <see cref="Out"/>.</summary>
    public void WriteOutLine(string line)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(line + "\n");
        Out.Write(bytes);
        Out.Flush();
    }
}
