using System.Text;
using Akka.Actor;

namespace Hypervisor.Actors.Devices;

/// <summary>
/// The UART console device actor of the fleet: collects what every VM transmits, writes one
/// transcript file per VM (<c>&lt;dir&gt;/&lt;vm&gt;.out</c>, byte for byte) and shows complete lines on the
/// terminal prefixed with <c>[vm]</c>. Input goes the other way through the supervisor
/// (<see cref="Vm.FeedInput"/>), so that it is applied and recorded at a VM's virtual time.
/// </summary>
public sealed class ConsoleActor : ReceiveActor
{
    private const int FileFlushBytes = 16 * 1024;

    private readonly string? _dir;
    private readonly IConsoleSink? _terminal;
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    private sealed class Pending
    {
        public readonly MemoryStream File = new();
        public readonly MemoryStream Line = new();
    }

    public ConsoleActor(string? outputDir, IConsoleSink? terminal)
    {
        _dir = outputDir;
        _terminal = terminal;
        Receive<ConsoleOutput>(OnOutput);
        Receive<FlushConsole>(_ =>
        {
            FlushAll(endPartialLines: true);
            Sender.Tell(ConsoleFlushed.Instance);
        });
    }

    public static Props Props(string? outputDir, IConsoleSink? terminal) =>
        Akka.Actor.Props.Create(() => new ConsoleActor(outputDir, terminal));

    /// <summary>The transcript file of VM <paramref name="vm"/> in <paramref name="dir"/>.</summary>
    public static string TranscriptPath(string dir, string vm) => Path.Combine(dir, vm + ".out");

    protected override void PostStop() => FlushAll(endPartialLines: true);

    private void OnOutput(ConsoleOutput m)
    {
        if (!_pending.TryGetValue(m.Vm, out Pending? p))
        {
            p = new Pending();
            _pending[m.Vm] = p;
        }
        if (_dir is not null)
        {
            p.File.Write(m.Bytes);
            if (p.File.Length >= FileFlushBytes)
            {
                FlushFile(m.Vm, p);
            }
        }
        if (_terminal is null)
        {
            return;
        }
        foreach (byte b in m.Bytes)
        {
            if (b == (byte)'\n')
            {
                EmitLine(m.Vm, p);
            }
            else if (b != (byte)'\r')
            {
                p.Line.WriteByte(b);
            }
        }
    }

    private void EmitLine(string vm, Pending p)
    {
        string text = Encoding.UTF8.GetString(p.Line.GetBuffer(), 0, (int)p.Line.Length);
        p.Line.SetLength(0);
        _terminal?.Line(vm, text);
    }

    private void FlushFile(string vm, Pending p)
    {
        if (_dir is null || p.File.Length == 0)
        {
            return;
        }
        using (var f = new FileStream(TranscriptPath(_dir, vm), FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            p.File.WriteTo(f);
        }
        p.File.SetLength(0);
    }

    private void FlushAll(bool endPartialLines)
    {
        foreach ((string vm, Pending p) in _pending)
        {
            FlushFile(vm, p);
            if (endPartialLines && p.Line.Length > 0)
            {
                EmitLine(vm, p);
            }
        }
    }
}
