using Hypervisor.Devices;

namespace Hypervisor.Tests.Devices;

public class TestFinisherTests
{
    private readonly List<(FinisherRequest Request, int Code)> _requests = [];
    private readonly TestFinisher _finisher;

    public TestFinisherTests() => _finisher = new TestFinisher((r, c) => _requests.Add((r, c)));

    [Fact]
    public void Finisher_sits_at_the_virt_machine_address()
    {
        Assert.Equal(0x0010_0000u, TestFinisher.DefaultBase);
        Assert.Equal(0x1000u, _finisher.Size);
    }

    [Fact]
    public void Writing_0x5555_requests_pass()
    {
        Assert.True(_finisher.Write(0, 4, 0x5555));
        Assert.Equal([(FinisherRequest.Pass, 0)], _requests);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(0xFFFF)]
    public void Writing_code_shifted_left_16_or_0x3333_requests_fail_with_the_code(int code)
    {
        Assert.True(_finisher.Write(0, 4, ((uint)code << 16) | 0x3333));
        Assert.Equal([(FinisherRequest.Fail, code)], _requests);
    }

    [Fact]
    public void Writing_0x7777_requests_reset()
    {
        Assert.True(_finisher.Write(0, 4, 0x7777));
        Assert.Equal([(FinisherRequest.Reset, 0)], _requests);
    }

    [Fact]
    public void Halfword_write_of_0x5555_requests_pass()
    {
        Assert.True(_finisher.Write(0, 2, 0x5555));
        Assert.Equal([(FinisherRequest.Pass, 0)], _requests);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(0x1234u)]
    [InlineData(0x5554u)]
    [InlineData(0x3334u)]
    public void Other_values_are_ignored(uint value)
    {
        Assert.True(_finisher.Write(0, 4, value));
        Assert.Empty(_requests);
    }

    [Fact]
    public void Writes_to_other_offsets_are_ignored()
    {
        Assert.True(_finisher.Write(4, 4, 0x5555));
        Assert.Empty(_requests);
    }

    [Fact]
    public void Byte_access_is_refused()
    {
        Assert.False(_finisher.Write(0, 1, 0x55));
        Assert.False(_finisher.Read(0, 1, out _));
        Assert.Empty(_requests);
    }

    [Fact]
    public void Reads_return_zero()
    {
        Assert.True(_finisher.Read(0, 4, out uint value));
        Assert.Equal(0u, value);
    }
}
