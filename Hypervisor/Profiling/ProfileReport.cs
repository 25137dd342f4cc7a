using Hypervisor.Isa;
using Hypervisor.Loading;
using Hypervisor.Memory;

namespace Hypervisor.Profiling;

/// <summary>
/// One basic block as the run saw it: it starts where a transfer landed and runs to the next
/// instruction that always transfers control (so it ran <see cref="Length"/> instructions every
/// time it was entered).
/// </summary>
/// <param name="Address">Its first instruction.</param>
/// <param name="Entries">Transfers that landed on it (plus one for the entry point).</param>
/// <param name="Length">Instructions from its first up to and including the one that ends it.</param>
/// <param name="Instructions">Entries × length.</param>
/// <param name="Symbol">The function or label it lies in, if any.</param>
/// <param name="Source">The source line of its first instruction, when the image has a line table.</param>
public sealed record BlockProfile(uint Address, long Entries, int Length, long Instructions, CodeSymbol? Symbol, SourceLine? Source)
{
    /// <summary>"function+0xoffset", or the address when no symbol names it.</summary>
    public string Location => Symbol is null ? $"0x{Address:x8}" : $"{Symbol.Name}+0x{Address - Symbol.Address:x}";
}

/// <summary>What ran in one function (or under one label, or outside any symbol).</summary>
/// <param name="Name">The symbol's name, or "(unknown)" for code no symbol names.</param>
/// <param name="Address">The symbol's address (the lowest block's for unnamed code).</param>
/// <param name="Size">The symbol's size in bytes (0 for a label or unnamed code).</param>
/// <param name="Calls">Times execution arrived at its first instruction.</param>
/// <param name="Instructions">Instructions of the blocks that start in it.</param>
/// <param name="Blocks">Distinct blocks of it that ran.</param>
/// <param name="Source">The source line of its first instruction, when known.</param>
public sealed record FunctionProfile(string Name, uint Address, uint Size, long Calls, long Instructions, int Blocks, SourceLine? Source);

/// <summary>
/// Turns a <see cref="ControlFlowProfile"/> (counted edges) and the guest's image into what a user
/// reads: the basic blocks that ran with their entry and instruction counts, the same per
/// function (names from the ELF symbol table), source lines from the DWARF line table, and how
/// often each instruction ran (for coverage).
/// </summary>
/// <remarks>
/// <para>Blocks are dynamic: every address a transfer landed on starts a block, even one that is
/// also reached by falling through (a loop head), so blocks may overlap; the instructions a run
/// executed are still counted once, because an entry runs on to the block's end with no further
/// edge. A block ends at the first instruction that always leaves through a recorded edge:
/// a branch (taken or not), JAL, JALR, ECALL, EBREAK, MRET, SRET, or an undecodable word (it traps).
/// Other system instructions (CSR accesses, WFI, FENCE.I, SFENCE.VMA) fall through without an edge,
/// so a block goes on past them. A trap or interrupt in the middle of a block is charged as if
/// the block ran to its end; <see cref="Executions"/> has the exact per-instruction figure.</para>
/// <para>How often each instruction ran is found by flow: arrivals at an address are the edges into
/// it plus the arrivals at the one before that did not leave through an edge; an instruction that
/// traps (or is interrupted) before it completes is not counted for that arrival.</para>
/// </remarks>
public sealed class ProfileReport
{
    /// <summary>Longest block walked (a guard against code that never transfers control).</summary>
    private const int MaxBlockLength = 1 << 16;

    private readonly Dictionary<uint, long> _executions;
    private readonly Func<uint, uint?> _code;

    private ProfileReport(ControlFlowProfile profile, ElfImage image, SymbolMap symbols, DwarfLineTable? lines,
        IReadOnlyList<BlockProfile> blocks, IReadOnlyList<FunctionProfile> functions, Dictionary<uint, long> executions,
        Func<uint, uint?> code, IReadOnlyList<string> notes)
    {
        Profile = profile;
        Image = image;
        Symbols = symbols;
        Lines = lines;
        Blocks = blocks;
        Functions = functions;
        _executions = executions;
        _code = code;
        Notes = notes;
        TotalInstructions = blocks.Sum(b => b.Instructions);
    }

    public ControlFlowProfile Profile { get; }

    public ElfImage Image { get; }

    public SymbolMap Symbols { get; }

    /// <summary>The image's line table; null when it was built without debug info.</summary>
    public DwarfLineTable? Lines { get; }

    /// <summary>Every block that ran, by address.</summary>
    public IReadOnlyList<BlockProfile> Blocks { get; }

    /// <summary>Every function (or label, or unnamed code) that ran, by address.</summary>
    public IReadOnlyList<FunctionProfile> Functions { get; }

    /// <summary>Instructions of all blocks (entries × length summed).</summary>
    public long TotalInstructions { get; }

    /// <summary>What the report could not do (no debug info, an unreadable line table).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>
    /// Builds the report. Instruction words come from the image's loaded segments (their addresses are
    /// the ones code runs at, also for a paged guest's identity-mapped tasks), else from the VM's RAM
    /// through <paramref name="bus"/> (code the guest wrote at run time; patched words read as the original).
    /// </summary>
    /// <param name="profile">The edges of the run.</param>
    /// <param name="image">The guest image the run started from (symbols, line table, code).</param>
    /// <param name="bus">The VM's bus, to read code that is not in the image; null = image only.</param>
    /// <param name="stopPc">Where the run stopped (the instruction there was reached but did not run), if known.</param>
    public static ProfileReport Build(ControlFlowProfile profile, ElfImage image, SystemBus? bus = null, uint? stopPc = null)
    {
        Func<uint, uint?> code = CodeReader(image, bus);
        var notes = new List<string>();
        DwarfLineTable? lines = null;
        try
        {
            lines = DwarfLineTable.FromImage(image);
        }
        catch (DwarfException e)
        {
            notes.Add($"{image.Path}: the DWARF line table cannot be read ({e.Message}); functions only");
        }
        if (lines is null && notes.Count == 0)
        {
            notes.Add($"{image.Path} has no debug info (.debug_line): coverage is by function only, no source lines (build it with -g for line coverage)");
        }
        var symbols = new SymbolMap(image);

        Dictionary<uint, long> into = profile.BlockEntries();
        var outOf = new Dictionary<uint, long>();
        foreach (((uint from, _), long n) in profile.Edges)
        {
            outOf[from] = outOf.GetValueOrDefault(from) + n;
        }
        Dictionary<uint, long> executions = CountExecutions(into, outOf, stopPc, code);

        var blocks = new List<BlockProfile>();
        foreach ((uint address, long entries) in into.OrderBy(e => e.Key))
        {
            if (entries <= 0)
            {
                continue;
            }
            int length = BlockLength(address, code);
            blocks.Add(new BlockProfile(address, entries, length, entries * length, symbols.Find(address), lines?.Lookup(address)));
        }

        var functions = new List<FunctionProfile>();
        foreach (IGrouping<CodeSymbol?, BlockProfile> group in blocks.GroupBy(b => b.Symbol))
        {
            CodeSymbol? s = group.Key;
            long instructions = group.Sum(b => b.Instructions);
            functions.Add(s is null
                ? new FunctionProfile("(unknown)", group.Min(b => b.Address), 0, 0, instructions, group.Count(), null)
                : new FunctionProfile(s.Name, s.Address, s.Size, executions.GetValueOrDefault(s.Address), instructions, group.Count(), lines?.Lookup(s.Address)));
        }
        functions.Sort((a, b) => a.Address.CompareTo(b.Address));
        return new ProfileReport(profile, image, symbols, lines, blocks, functions, executions, code, notes);
    }

    /// <summary>Times the instruction at <paramref name="address"/> ran (0 if never).</summary>
    public long Executions(uint address) => _executions.GetValueOrDefault(address);

    /// <summary>Addresses that ran at least once, with their counts.</summary>
    public IReadOnlyDictionary<uint, long> InstructionCounts => _executions;

    /// <summary>The instruction word at a code address, if known.</summary>
    public uint? Word(uint address) => _code(address);

    /// <summary>Transfers from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public long EdgeCount(uint from, uint to) => (_edges ??= Profile.Edges).GetValueOrDefault((from, to));

    private IReadOnlyDictionary<(uint From, uint To), long>? _edges;

    /// <summary>The block that starts at <paramref name="address"/>, if one ran.</summary>
    public BlockProfile? BlockAt(uint address)
    {
        foreach (BlockProfile b in Blocks)
        {
            if (b.Address == address)
            {
                return b;
            }
        }
        return null;
    }

    /// <summary>The function named <paramref name="name"/>, if it ran.</summary>
    public FunctionProfile? Function(string name) => Functions.FirstOrDefault(f => f.Name == name);

    /// <summary>The <paramref name="count"/> blocks that executed the most instructions.</summary>
    public IReadOnlyList<BlockProfile> HottestBlocks(int count) =>
        [.. Blocks.OrderByDescending(b => b.Instructions).ThenBy(b => b.Address).Take(count)];

    /// <summary>The <paramref name="count"/> functions that executed the most instructions.</summary>
    public IReadOnlyList<FunctionProfile> HottestFunctions(int count) =>
        [.. Functions.OrderByDescending(f => f.Instructions).ThenBy(f => f.Address).Take(count)];

    /// <summary>A count's share of the run's instructions, 0..1.</summary>
    public double Share(long instructions) => TotalInstructions == 0 ? 0 : (double)instructions / TotalInstructions;

    /// <summary>True for instructions that always leave through an edge the profile records.</summary>
    public static bool EndsBlock(Opcode op) =>
        OpcodeInfo.IsControlFlow(op) || op is Opcode.Ecall or Opcode.Ebreak or Opcode.Mret or Opcode.Sret or Opcode.Illegal or Opcode.Undecoded;

    /// <summary>Reads instruction words from the image's loaded segments, else from RAM through the bus.</summary>
    public static Func<uint, uint?> CodeReader(ElfImage image, SystemBus? bus)
    {
        LoadSegment[] segments = [.. image.Segments];
        return address =>
        {
            if ((address & 3) != 0)
            {
                return null;
            }
            foreach (LoadSegment seg in segments)
            {
                uint offset = address - seg.PhysicalAddress;
                if (offset < (uint)seg.Data.Length && seg.Data.Length - offset >= 4)
                {
                    return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(seg.Data.AsSpan((int)offset));
                }
            }
            return bus is not null && bus.IsRam(address, 4) && bus.Read(address, 4, out uint word) ? word : null;
        };
    }

    private static int BlockLength(uint address, Func<uint, uint?> code)
    {
        int length = 0;
        for (uint a = address; length < MaxBlockLength; a += 4)
        {
            if (code(a) is not uint word)
            {
                break;
            }
            length++;
            if (EndsBlock(Decoder.Decode(word).Op))
            {
                break;
            }
        }
        return Math.Max(length, 1);
    }

    /// <summary>
    /// How often every instruction reached ran, by flow: arrivals at an address are the edges into it
    /// plus the arrivals at the one before that did not leave through an edge. An instruction that
    /// does not end a block ran as often as it was reached less the edges out of it, which are traps
    /// and interrupts taken before it completed (it runs again when the handler returns to it).
    /// </summary>
    private static Dictionary<uint, long> CountExecutions(Dictionary<uint, long> into, Dictionary<uint, long> outOf, uint? stopPc, Func<uint, uint?> code)
    {
        var counts = new Dictionary<uint, long>();
        uint next = 0;
        bool walked = false;
        foreach (uint leader in into.Keys.Order())
        {
            if (walked && leader < next)
            {
                continue; // inside a stretch already walked: its edges were counted there
            }
            long carry = 0;
            uint a = leader;
            for (int steps = 0; steps < MaxBlockLength * 16; steps++)
            {
                long arrived = into.GetValueOrDefault(a) + carry;
                long left = outOf.GetValueOrDefault(a) + (a == stopPc ? 1 : 0);
                bool endsBlock = code(a) is uint word && EndsBlock(Decoder.Decode(word).Op);
                long ran = endsBlock ? arrived - (a == stopPc ? 1 : 0) : arrived - left;
                if (ran > 0)
                {
                    counts[a] = ran;
                }
                carry = Math.Max(0, arrived - left);
                if (a == uint.MaxValue - 3)
                {
                    break;
                }
                a += 4;
                if (carry == 0 || code(a) is null)
                {
                    break;
                }
            }
            next = a;
            walked = true;
        }
        return counts;
    }
}
