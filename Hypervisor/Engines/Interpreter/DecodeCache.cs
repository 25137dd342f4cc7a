using Hypervisor.Isa;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Interpreter;

/// <summary>Pre-decoded instructions, one array of 1024 slots per physical code page, filled lazily.</summary>
/// <remarks>
/// A slot holds <see cref="Opcode.Undecoded"/> until its word is first executed. Pages handed out
/// are marked as code pages on the bus, so any store into them (from any engine path, MMU A/D
/// updates and AMOs included) arrives in <see cref="OnCodeWritten"/>, which resets just the slots the
/// store overlapped: the next fetch decodes the new word. That keeps the cache coherent without
/// FENCE.I, as QEMU is.
/// </remarks>
public sealed class DecodeCache : ICodeWriteObserver
{
    public const int SlotsPerPage = 1024;

    private readonly SystemBus _bus;
    private readonly Dictionary<uint, Instruction[]> _pages = [];

    public DecodeCache(SystemBus bus, bool eager = false)
    {
        _bus = bus;
        Eager = eager;
        bus.AddCodeObserver(this);
    }

    /// <summary>Decode a whole page when it is first used (direct execution), rather than word by word.</summary>
    public bool Eager { get; }

    /// <summary>Number of pages holding decoded instructions.</summary>
    public int PageCount => _pages.Count;

    /// <summary>Slots reset by stores into code.</summary>
    public long Invalidations { get; private set; }

    /// <summary>The decoded-slot array of the physical page at <paramref name="physicalPage"/>.</summary>
    public Instruction[] GetPage(uint physicalPage)
    {
        // A direct-mapped front for the dictionary: calls and returns between pages look up the
        // same few pages again and again (2-3 % of an interpreted run went to the dictionary).
        int slot = (int)(physicalPage >> 12) & (RecentSize - 1);
        if (_recentTags[slot] == physicalPage && _recent[slot] is Instruction[] recent)
        {
            return recent;
        }
        if (!_pages.TryGetValue(physicalPage, out Instruction[]? slots))
        {
            slots = new Instruction[SlotsPerPage];
            _pages.Add(physicalPage, slots);
            _bus.MarkCodePage(physicalPage);
            if (Eager)
            {
                for (uint a = physicalPage; a < physicalPage + 4096; a += 4)
                {
                    Fill(slots, a);
                }
            }
        }
        _recentTags[slot] = physicalPage;
        _recent[slot] = slots;
        return slots;
    }

    /// <summary>True when the word at <paramref name="physicalAddress"/> has been decoded (executed at least once) and not overwritten since.</summary>
    public bool WasDecoded(uint physicalAddress) =>
        _pages.TryGetValue(physicalAddress & ~0xFFFu, out Instruction[]? slots) && slots[(physicalAddress >> 2) & (SlotsPerPage - 1)].Op != Opcode.Undecoded;

    private const int RecentSize = 64;
    private readonly uint[] _recentTags = new uint[RecentSize];
    private readonly Instruction[]?[] _recent = new Instruction[RecentSize][];

    /// <summary>Decodes the word at <paramref name="physicalAddress"/> into its slot and returns the slot.</summary>
    /// <remarks>Register-only instructions that write x0 become <see cref="Opcode.Nop"/>, so the interpreter never writes x0 for them.</remarks>
    public ref Instruction Fill(Instruction[] page, uint physicalAddress)
    {
        uint word = _bus.Ram.Read(physicalAddress - _bus.Ram.Base, 4);
        Instruction decoded = Decoder.Decode(word);
        if (decoded.Rd == 0 && OpcodeInfo.IsRegisterOnly(decoded.Op))
        {
            decoded = new Instruction(Opcode.Nop, 0, decoded.Rs1, decoded.Rs2, decoded.Imm, word);
        }
        ref Instruction slot = ref page[(physicalAddress >> 2) & (SlotsPerPage - 1)];
        slot = decoded;
        return ref slot;
    }

    public void OnCodeWritten(uint physicalAddress, int size)
    {
        uint first = physicalAddress & ~3u;
        uint last = (physicalAddress + (uint)size - 1) & ~3u;
        for (uint a = first; a <= last; a += 4)
        {
            if (_pages.TryGetValue(a & ~0xFFFu, out Instruction[]? slots))
            {
                slots[(a >> 2) & (SlotsPerPage - 1)] = default;
                Invalidations++;
            }
        }
    }

    public void Clear()
    {
        _pages.Clear();
        Array.Clear(_recent);
    }
}
