using Hypervisor.Devices;

namespace Hypervisor.Tests.Devices;

public class UartTests
{
    private const uint Rbr = 0, Thr = 0, Dll = 0, Ier = 1, Dlm = 1, Iir = 2, Fcr = 2, Lcr = 3, Mcr = 4, Lsr = 5, Msr = 6, Scr = 7;
    private const byte LsrDr = 0x01, LsrThre = 0x20, LsrTemt = 0x40;
    private const int Irq = Uart16550.DefaultIrq;

    private readonly List<byte> _sent = [];
    private readonly FakeInterruptSink _plic = new();
    private readonly Uart16550 _uart;

    public UartTests() => _uart = new Uart16550(_sent.Add, _plic);

    private uint Read(uint offset)
    {
        Assert.True(_uart.Read(offset, 1, out uint value));
        return value;
    }

    private void Write(uint offset, uint value) => Assert.True(_uart.Write(offset, 1, value));

    private void Input(string text)
    {
        _uart.Receive(System.Text.Encoding.ASCII.GetBytes(text));
        _uart.PollInput();
    }

    [Fact]
    public void Default_irq_is_plic_source_10()
    {
        Assert.Equal(10, Uart16550.DefaultIrq);
        Assert.Equal(0x1000_0000u, Uart16550.DefaultBase);
    }

    [Fact]
    public void Thr_write_reaches_the_sink()
    {
        Write(Thr, 'h');
        Write(Thr, 'i');

        Assert.Equal("hi"u8.ToArray(), _sent.ToArray());
        Assert.Equal(2, _uart.BytesTransmitted);
    }

    [Fact]
    public void Lsr_shows_transmitter_empty_and_no_data_when_idle()
    {
        Assert.Equal((uint)(LsrThre | LsrTemt), Read(Lsr));
    }

    [Fact]
    public void Lsr_shows_data_ready_when_input_is_queued()
    {
        _uart.Receive("x"u8);

        Assert.Equal((uint)(LsrDr | LsrThre | LsrTemt), Read(Lsr));
    }

    [Fact]
    public void Lsr_clears_data_ready_once_the_input_is_read()
    {
        Input("x");
        Read(Rbr);

        Assert.Equal(0u, Read(Lsr) & LsrDr);
    }

    [Fact]
    public void Rbr_reads_input_in_order()
    {
        _uart.Receive("abc"u8);

        Assert.Equal('a', (char)Read(Rbr));
        Assert.Equal('b', (char)Read(Rbr));
        Assert.Equal('c', (char)Read(Rbr));
    }

    [Fact]
    public void Rbr_reads_zero_when_nothing_was_received()
    {
        Assert.Equal(0u, Read(Rbr));
    }

    [Fact]
    public void Iir_reads_no_interrupt_after_reset()
    {
        Assert.Equal(0x01u, Read(Iir) & 0x0F);
        Assert.False(_plic.Level(Irq));
    }

    [Fact]
    public void Received_data_with_rx_interrupt_enabled_reports_id_4_and_raises_the_line()
    {
        Write(Ier, 0x01);
        Input("k");

        Assert.Equal(0x04u, Read(Iir) & 0x0F);
        Assert.True(_plic.Level(Irq));
    }

    [Fact]
    public void Received_data_without_rx_interrupt_enabled_keeps_the_line_low()
    {
        Input("k");

        Assert.Equal(0x01u, Read(Iir) & 0x0F);
        Assert.False(_plic.Level(Irq));
    }

    [Fact]
    public void Reading_the_last_byte_lowers_the_rx_interrupt()
    {
        Write(Ier, 0x01);
        Input("ab");
        Read(Rbr);
        Assert.True(_plic.Level(Irq));

        Read(Rbr);

        Assert.False(_plic.Level(Irq));
        Assert.Equal(0x01u, Read(Iir) & 0x0F);
    }

    [Fact]
    public void Enabling_thr_empty_interrupt_reports_id_2_and_raises_the_line()
    {
        Write(Ier, 0x02);

        Assert.True(_plic.Level(Irq));
        Assert.Equal(0x02u, Read(Iir) & 0x0F);
    }

    [Fact]
    public void Reading_iir_clears_the_thr_empty_interrupt()
    {
        Write(Ier, 0x02);
        Read(Iir);

        Assert.False(_plic.Level(Irq));
        Assert.Equal(0x01u, Read(Iir) & 0x0F);
    }

    [Fact]
    public void Transmitting_rearms_the_thr_empty_interrupt()
    {
        Write(Ier, 0x02);
        Read(Iir);

        Write(Thr, 'z');

        Assert.True(_plic.Level(Irq));
        Assert.Equal(0x02u, Read(Iir) & 0x0F);
    }

    [Fact]
    public void Rx_interrupt_takes_priority_over_thr_empty()
    {
        Write(Ier, 0x03);
        Input("q");

        Assert.Equal(0x04u, Read(Iir) & 0x0F);
        // Reading IIR while it reports RX does not clear the THR-empty condition.
        Read(Rbr);
        Assert.Equal(0x02u, Read(Iir) & 0x0F);
    }

    [Fact]
    public void Disabling_interrupts_lowers_the_line()
    {
        Write(Ier, 0x01);
        Input("q");
        Assert.True(_plic.Level(Irq));

        Write(Ier, 0x00);

        Assert.False(_plic.Level(Irq));
    }

    [Fact]
    public void Line_goes_up_and_down_on_plic_source_10_only()
    {
        Write(Ier, 0x01);
        Input("q");
        Read(Rbr);

        Assert.Equal([(10, true), (10, false)], _plic.Changes);
    }

    [Fact]
    public void Iir_shows_fifo_bits_when_fifos_are_enabled()
    {
        Write(Fcr, 0x01);

        Assert.Equal(0xC1u, Read(Iir));
    }

    [Fact]
    public void Fcr_bit_1_clears_the_receive_fifo()
    {
        Input("abc");
        Write(Fcr, 0x03);

        Assert.Equal(0u, Read(Lsr) & LsrDr);
    }

    [Fact]
    public void Dlab_selects_divisor_latches_instead_of_thr_and_ier()
    {
        Write(Ier, 0x05);
        Write(Lcr, 0x83);
        Write(Dll, 0x0C);
        Write(Dlm, 0x01);

        Assert.Equal(0x0Cu, Read(Dll));
        Assert.Equal(0x01u, Read(Dlm));
        Assert.Empty(_sent);

        Write(Lcr, 0x03);
        Assert.Equal(0x05u, Read(Ier));
        Assert.Equal(0x03u, Read(Lcr));
    }

    [Fact]
    public void Dlab_hides_received_data_from_rbr()
    {
        Input("r");
        Write(Lcr, 0x80);
        Assert.Equal(1u, Read(Dll)); // divisor latch resets to 1

        Write(Lcr, 0x00);
        Assert.Equal('r', (char)Read(Rbr));
    }

    [Fact]
    public void Scratch_register_keeps_its_value()
    {
        Write(Scr, 0xA5);
        Assert.Equal(0xA5u, Read(Scr));
    }

    [Fact]
    public void Mcr_keeps_its_value_and_msr_reports_carrier_and_ready()
    {
        Write(Mcr, 0x0B);
        Assert.Equal(0x0Bu, Read(Mcr));
        Assert.Equal(0xB0u, Read(Msr));
    }

    [Fact]
    public void Word_accesses_are_accepted()
    {
        Assert.True(_uart.Write(Scr - 3, 4, 0x41)); // offset 4 (MCR)
        Assert.True(_uart.Write(Thr, 4, 0x41));
        Assert.True(_uart.Read(Lsr - 1, 4, out uint _));
        Assert.Equal("A"u8.ToArray(), _sent.ToArray());
    }

    [Theory]
    [InlineData(0u, 2)]
    [InlineData(0u, 8)]
    [InlineData(1u, 4)] // misaligned word
    [InlineData(2u, 2)]
    public void Other_access_sizes_are_refused(uint offset, int size)
    {
        Assert.False(_uart.Read(offset, size, out _));
        Assert.False(_uart.Write(offset, size, 0x41));
        Assert.Empty(_sent);
    }
}
