using System.Globalization;
using System.Text.RegularExpressions;
using Hypervisor.Loading;
using Hypervisor.Profiling;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Profiling;

/// <summary>
/// Binary patching is invisible: guests/selfsum reads its whole .text (after it has run, so every
/// page is patched) and prints a checksum, which is the same with patching on and off, on every
/// engine, and equals the checksum of the ELF's own bytes.
/// </summary>
public sealed partial class SelfChecksumTests
{
    public static TheoryData<string> Engines() => new(ProfiledGuest.Engines);

    [Theory]
    [MemberData(nameof(Engines))]
    public void The_checksum_of_its_own_code_is_the_same_with_patching_on_and_off(string engine)
    {
        var plain = new ProfiledGuest("selfsum", engine, null);
        var patched = new ProfiledGuest("selfsum", engine, ProfileMethod.Patch);

        Assert.Equal(0, plain.Summary.GuestCode);
        Assert.Equal(0, patched.Summary.GuestCode);
        Assert.Equal(plain.Run.Output, patched.Run.Output);
        Assert.Equal(ExpectedChecksum(), Checksum(patched.Run.Output));
        // Patching really happened: the code pages were patched and the patches were hit.
        BinaryPatcher patcher = patched.Run.Vm.Patcher!;
        Assert.True(patcher.PatchCount > 50, $"only {patcher.PatchCount} patches");
        Assert.True(patcher.Hits > 1000, $"only {patcher.Hits} patch hits");
    }

    [Fact]
    public void Guest_memory_reads_back_the_original_words_after_a_patched_run()
    {
        var patched = new ProfiledGuest("profile-demo", "interp", ProfileMethod.Patch);
        ElfImage image = patched.Run.Vm.Image;
        LoadSegment text = image.Segments.First(s => s.Executable);

        for (int offset = 0; offset + 4 <= text.Data.Length; offset += 4)
        {
            Assert.True(patched.Run.Vm.Bus.Read(text.PhysicalAddress + (uint)offset, 4, out uint word));
            Assert.Equal(BitConverter.ToUInt32(text.Data, offset), word);
        }
    }

    /// <summary>FNV-1a over the bytes of [_start, __text_end) in the ELF, as the guest computes it.</summary>
    private static uint ExpectedChecksum()
    {
        ElfImage image = ElfImage.Load(RepoPaths.Guest("selfsum"));
        uint start = image.FindSymbol("_start")!.Value, end = image.FindSymbol("__text_end")!.Value;
        LoadSegment seg = image.Segments.First(s => start - s.PhysicalAddress < (uint)s.Data.Length);
        uint h = 2166136261u;
        for (uint a = start; a < end; a++)
        {
            h = (h ^ seg.Data[a - seg.PhysicalAddress]) * 16777619u;
        }
        return h;
    }

    private static uint Checksum(string output)
    {
        Match m = ChecksumLine().Match(output);
        Assert.True(m.Success, $"no checksum in: {output}");
        return uint.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("checksum ([0-9a-f]{8})")]
    private static partial Regex ChecksumLine();
}
