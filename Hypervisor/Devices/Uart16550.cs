using System.Collections.Concurrent;
using Hypervisor.Memory;

namespace Hypervisor.Devices;

/// <summary>NS16550A UART as QEMU's virt machine has it: byte registers, an instant transmitter, a receive FIFO.</summary>
/// <remarks>
/// Register map (base 0x1000_0000, size 0x100; 8-bit accesses, 32-bit reads/writes also accepted):
///   +0  R RBR receive buffer   W THR transmit holding   (DLAB=1: DLL divisor low)
///   +1  IER: bit0 received data available, bit1 THR empty, bit2 line status, bit3 modem status (DLAB=1: DLM)
///   +2  R IIR: 0x01 no interrupt, 0x04 received data, 0x02 THR empty (cleared by reading IIR); 0xC0 set while FIFOs are on
///       W FCR: bit0 FIFO enable, bit1 clear receive FIFO
///   +3  LCR (bit7 = DLAB)   +4 MCR   +5 LSR: bit0 data ready, bit5 THR empty, bit6 transmitter empty
///   +6  MSR (reads DCD|DSR|CTS)   +7 SCR scratch
/// Transmitted bytes go to the sink the host chose. Received bytes come from <see cref="Receive"/>,
/// which any thread may call; the VM moves them into the FIFO at its next instruction boundary
/// check (<see cref="PollInput"/>), so the interrupt line only ever changes on the VM's own thread.
/// </remarks>
public sealed class Uart16550 : IMmioDevice, Machine.ISnapshotState
{
    public const uint DefaultBase = 0x1000_0000;
    public const int DefaultIrq = 10;

    private const byte IerRxAvailable = 1, IerThrEmpty = 2;
    private const byte LsrDataReady = 0x01, LsrThrEmpty = 0x20, LsrTransmitterEmpty = 0x40;

    private readonly Action<byte> _transmit;
    private readonly IInterruptSink _irq;
    private readonly int _source;
    private readonly Queue<byte> _rx = new();
    private readonly ConcurrentQueue<byte> _incoming = new();
    private byte _ier, _lcr, _mcr, _scr, _dll = 1, _dlm;
    private bool _fifoEnabled;
    private bool _thrInterruptPending;
    private bool _line;

    public Uart16550(Action<byte> transmit, IInterruptSink irq, int source = DefaultIrq)
    {
        _transmit = transmit;
        _irq = irq;
        _source = source;
    }

    public string Name => "uart";

    public uint Size => 0x100;

    /// <summary>Bytes the guest has transmitted.</summary>
    public long BytesTransmitted { get; private set; }

    /// <summary>True when bytes wait in the host-side queue (not yet in the FIFO).</summary>
    public bool HasIncoming => !_incoming.IsEmpty;

    /// <summary>True when the receive FIFO holds bytes the guest has not read.</summary>
    public bool HasUnreadInput => _rx.Count > 0;

    /// <summary>Queues input from the host; thread-safe.</summary>
    public void Receive(ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            _incoming.Enqueue(b);
        }
    }

    /// <summary>Moves host input into the receive FIFO and updates the interrupt line (VM thread only).</summary>
    public void PollInput()
    {
        bool any = false;
        while (_incoming.TryDequeue(out byte b))
        {
            _rx.Enqueue(b);
            any = true;
        }
        if (any)
        {
            UpdateIrq();
        }
    }

    public bool Read(uint offset, int size, out uint value)
    {
        value = 0;
        if (size is not (1 or 4) || (offset & (uint)(size - 1)) != 0)
        {
            return false;
        }
        bool dlab = (_lcr & 0x80) != 0;
        switch (offset)
        {
            case 0:
                if (dlab)
                {
                    value = _dll;
                    break;
                }
                if (_rx.Count == 0)
                {
                    PollInput();
                }
                if (_rx.TryDequeue(out byte b))
                {
                    value = b;
                    UpdateIrq();
                }
                break;
            case 1: value = dlab ? _dlm : _ier; break;
            case 2:
                value = InterruptId();
                if ((value & 0x0F) == 0x02)
                {
                    _thrInterruptPending = false;
                    UpdateIrq();
                }
                if (_fifoEnabled)
                {
                    value |= 0xC0;
                }
                break;
            case 3: value = _lcr; break;
            case 4: value = _mcr; break;
            case 5:
                if (_rx.Count == 0)
                {
                    PollInput();
                }
                value = (uint)((_rx.Count > 0 ? LsrDataReady : 0) | LsrThrEmpty | LsrTransmitterEmpty);
                break;
            case 6: value = 0xB0; break;
            case 7: value = _scr; break;
        }
        return true;
    }

    public bool Write(uint offset, int size, uint value)
    {
        if (size is not (1 or 4) || (offset & (uint)(size - 1)) != 0)
        {
            return false;
        }
        byte v = (byte)value;
        bool dlab = (_lcr & 0x80) != 0;
        switch (offset)
        {
            case 0:
                if (dlab)
                {
                    _dll = v;
                    break;
                }
                _transmit(v);
                BytesTransmitted++;
                // The transmitter is instant: THR is empty again at once.
                _thrInterruptPending = true;
                UpdateIrq();
                break;
            case 1:
                if (dlab)
                {
                    _dlm = v;
                    break;
                }
                byte old = _ier;
                _ier = (byte)(v & 0x0F);
                if ((_ier & IerThrEmpty) != 0 && (old & IerThrEmpty) == 0)
                {
                    _thrInterruptPending = true;
                }
                UpdateIrq();
                break;
            case 2:
                _fifoEnabled = (v & 1) != 0;
                if ((v & 2) != 0)
                {
                    _rx.Clear();
                }
                UpdateIrq();
                break;
            case 3: _lcr = v; break;
            case 4: _mcr = v; break;
            case 7: _scr = v; break;
        }
        return true;
    }

    public void Save(BinaryWriter w)
    {
        w.Write(_ier); w.Write(_lcr); w.Write(_mcr); w.Write(_scr); w.Write(_dll); w.Write(_dlm);
        w.Write(_fifoEnabled); w.Write(_thrInterruptPending); w.Write(_line);
        w.Write(BytesTransmitted);
        byte[] rx = [.. _rx];
        w.Write(rx.Length);
        w.Write(rx);
    }

    public void Restore(BinaryReader r)
    {
        _ier = r.ReadByte(); _lcr = r.ReadByte(); _mcr = r.ReadByte(); _scr = r.ReadByte(); _dll = r.ReadByte(); _dlm = r.ReadByte();
        _fifoEnabled = r.ReadBoolean(); _thrInterruptPending = r.ReadBoolean(); _line = r.ReadBoolean();
        BytesTransmitted = r.ReadInt64();
        _rx.Clear();
        foreach (byte b in r.ReadBytes(r.ReadInt32()))
        {
            _rx.Enqueue(b);
        }
        _irq.SetLine(_source, _line);
    }

    private uint InterruptId()
    {
        if ((_ier & IerRxAvailable) != 0 && _rx.Count > 0)
        {
            return 0x04;
        }
        if ((_ier & IerThrEmpty) != 0 && _thrInterruptPending)
        {
            return 0x02;
        }
        return 0x01;
    }

    private void UpdateIrq()
    {
        bool level = InterruptId() != 0x01;
        if (level != _line)
        {
            _line = level;
            _irq.SetLine(_source, level);
        }
    }
}
