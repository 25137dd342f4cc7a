using Hypervisor.Devices;

namespace Hypervisor.Cli;

/// <summary>Connects a guest UART to the process's standard streams, as <c>-nographic</c> does in QEMU.</summary>
/// <remarks>
/// Guest bytes are buffered and flushed between slices and on newlines. Standard input is read on a
/// background thread and queued into the UART, which takes it in at the VM's next slice.
/// </remarks>
public sealed class ConsoleBridge
{
    private readonly CliContext _context;
    private readonly MemoryStream _buffer = new();
    private readonly ManualResetEventSlim _inputArrived = new(false);
    private volatile bool _inputEnded;
    private byte _last = (byte)'\n';

    public ConsoleBridge(CliContext context) => _context = context;

    public void Write(byte b)
    {
        _buffer.WriteByte(b);
        _last = b;
        if (b == (byte)'\n' && _buffer.Length > 4096)
        {
            Flush();
        }
    }

    public void Flush()
    {
        if (_buffer.Length == 0)
        {
            return;
        }
        _buffer.WriteTo(_context.Out);
        _context.Out.Flush();
        _buffer.SetLength(0);
    }

    /// <summary>Ends the guest's output with a newline if it did not, so a following line starts clean.</summary>
    public void EnsureNewline()
    {
        if (_last != (byte)'\n')
        {
            Write((byte)'\n');
        }
        Flush();
    }

    public void AttachInput(Uart16550 uart)
    {
        Stream? input = _context.In;
        if (input is null)
        {
            _inputEnded = true;
            return;
        }
        var reader = new Thread(() =>
        {
            byte[] chunk = new byte[256];
            try
            {
                int n;
                while ((n = input.Read(chunk, 0, chunk.Length)) > 0)
                {
                    uart.Receive(chunk.AsSpan(0, n));
                    _inputArrived.Set();
                }
            }
            catch (IOException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
            _inputEnded = true;
            _inputArrived.Set();
        })
        {
            IsBackground = true,
            Name = "hv-stdin",
        };
        reader.Start();
    }

    /// <summary>Waits briefly for input; false once standard input has ended (nothing can wake the guest then).</summary>
    public bool WaitForInput()
    {
        if (_inputEnded)
        {
            return false;
        }
        _inputArrived.Wait(50);
        _inputArrived.Reset();
        return true; // input arrived (the runner feeds it) or may still come
    }
}
