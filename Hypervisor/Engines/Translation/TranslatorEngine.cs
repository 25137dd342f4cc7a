using System.Diagnostics;
using Hypervisor.Cpu;
using Hypervisor.Engines.Interpreter;
using Hypervisor.Isa;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Translation;

/// <summary>The binary translator: runs guest code as compiled blocks, chained to one another.</summary>
/// <remarks>
/// The dispatcher finds the block for the current pc (through the fetch TLB and the translation
/// cache), runs it, and follows the exit's cached link to the next block without a cache lookup
/// while the link is valid (same MMU epoch, block not invalidated). Interrupts are taken only
/// between blocks (the shared run loop) or after callouts. When fewer instructions are left in
/// the chunk than a block holds, the rest runs on the interpreter one instruction at a time, so a
/// slice ends at exactly the instret the interpreter would reach. Code that cannot be translated
/// (a fetch fault, a page PMP splits) also runs on the interpreter.
/// </remarks>
public sealed class TranslatorEngine : ExecutionEngineBase, Profiling.IProfilingEngine
{
    public const int DefaultMaxBlockLength = 64;

    /// <summary>Times a block's entry is reached before it is translated: cold code stays interpreted,
    /// because compiling a region costs 1-2 ms of JIT time on this kind of machine. 128 against 32:
    /// minios 0.065 s instead of 0.109 s (12 regions compiled instead of 43), bench-compute 0.397 s
    /// instead of 0.410 s; 512 and more gain nothing further (docs/benchmarks.md).</summary>
    public const int DefaultTranslationThreshold = 128;


    private readonly Mmu _mmu;
    private readonly SystemBus _bus;
    private readonly InterpreterEngine _interpreter;
    private readonly TranslationContext _context;
    private readonly List<TraceInstruction> _trace = new(DefaultMaxBlockLength);
    private readonly Dictionary<BlockKey, int> _heat = [];
    private readonly Dictionary<BlockKey, RegionSignature> _pending = [];
    private readonly CompiledCodeCache _compiledCode;

    /// <summary>Blocks that may chain into each other before returning to the dispatcher.</summary>
    private const int ChainLength = 256;

    public TranslatorEngine(Hart hart, SystemBus bus, int maxBlockLength = DefaultMaxBlockLength,
        int cacheCapacity = TranslationCache.DefaultCapacity, int translationThreshold = DefaultTranslationThreshold,
        CompiledCodeCache? compiledCode = null, bool backgroundCompilation = false)
        : base(hart)
    {
        BackgroundCompilation = backgroundCompilation;
        _compiledCode = compiledCode ?? CompiledCodeCache.Shared;
        _mmu = hart.Mmu;
        _bus = bus;
        MaxBlockLength = maxBlockLength;
        TranslationThreshold = translationThreshold;
        _interpreter = new InterpreterEngine(hart, bus);
        Cache = new TranslationCache(bus, hart, cacheCapacity);
        _context = new TranslationContext(hart, FlushCode);
    }

    public override string Name => "bt";

    public int MaxBlockLength { get; }

    public int TranslationThreshold { get; }

    /// <summary>
    /// Compile hot blocks on the background compiler thread and keep interpreting them until they
    /// are ready, instead of waiting for the JIT. Results are the same either way; only which
    /// tier ran which instruction (and the wall time) changes.
    /// </summary>
    public bool BackgroundCompilation { get; }

    public TranslationCache Cache { get; }

    /// <summary>The interpreter used for exact budgets and untranslatable code.</summary>
    public InterpreterEngine Fallback => _interpreter;

    /// <summary>Profiling by instrumentation: translated code (compiled with counters) and the fallback interpreter record every edge.</summary>
    public Profiling.ControlFlowProfile? Profile
    {
        get => _context.Profile;
        set
        {
            _context.Profile = value;
            _interpreter.Profile = value;
            FlushCode(); // blocks compiled without counters must go
        }
    }

    public override void FlushCode()
    {
        Cache.Flush();
        _interpreter.FlushCode();
        Array.Clear(_context.JumpCache);
        _heat.Clear();
        _pending.Clear();
    }

    private long Epoch => _mmu.FlushEpoch;

    protected override ChunkExit RunChunk(ulong n) => RunTranslated(n, stopInUserMode: false);

    /// <summary>
    /// Runs at most <paramref name="n"/> instructions through translated code (the hybrid engine's BT
    /// tier); with <paramref name="stopInUserMode"/> it hands back as soon as the hart is in U-mode.
    /// </summary>
    public ChunkExit RunTranslated(ulong n, bool stopInUserMode)
    {
        HartState s = S;
        ulong start = s.Executed;
        long interpretedBefore = _interpreter.Statistics.InstructionsInterpreted;
        _stopInUserMode = stopInUserMode;
        ChunkExit exit = Dispatch(n);
        long interpreted = _interpreter.Statistics.InstructionsInterpreted - interpretedBefore;
        Statistics.InstructionsInterpreted += interpreted;
        Statistics.InstructionsTranslated += (long)(s.Executed - start) - interpreted;
        Statistics.Callouts = _context.Callouts;
        return exit;
    }

    private bool _stopInUserMode;

    private ChunkExit Dispatch(ulong n)
    {
        HartState s = S;
        ulong limit = s.Cycle + n;
        _context.CycleLimit = limit;
        TranslatedBlock? block = Lookup(s.Pc);
        while (true)
        {
            if (block is null)
            {
                // Cold or untranslatable code: interpret up to the next control transfer.
                ChunkExit e = _interpreter.RunBasicBlock(limit - s.Cycle);
                if (e != ChunkExit.Done)
                {
                    return e;
                }
                if (s.Cycle >= limit || (_stopInUserMode && s.Privilege == Privilege.User))
                {
                    return ChunkExit.Done;
                }
                block = Lookup(s.Pc, _interpreter.TransferReachedHead);
                continue;
            }
            if (s.Cycle + (ulong)block.Length > limit)
            {
                // Exact budget: the tail of the chunk runs instruction by instruction.
                return _interpreter.RunInstructions(limit - s.Cycle);
            }
            _context.LastBlock = block;
            int exit = block.Code(s.Cycle, ChainLength);
            if (exit == BlockExit.Idle)
            {
                return ChunkExit.Idle;
            }
            if (exit == BlockExit.MemoryMiss)
            {
                // The access the block stopped at: the interpreter takes the MMU's slow path
                // (walk, MMIO, fault, a store into code) and fills the TLB for next time.
                ChunkExit e = _interpreter.RunInstructions(1);
                if (e != ChunkExit.Done)
                {
                    return e;
                }
                exit = BlockExit.Dynamic;
            }
            if (Hart.Attention != 0)
            {
                return ChunkExit.Attention;
            }
            if (s.Cycle >= limit || (_stopInUserMode && s.Privilege == Privilege.User))
            {
                return ChunkExit.Done;
            }
            block = Follow(_context.LastBlock!, exit);
        }
    }

    /// <summary>The block an exit leads to: the cached link when still valid, else a cache lookup that refreshes the link.</summary>
    private TranslatedBlock? Follow(TranslatedBlock from, int exit)
    {
        long epoch = Epoch;
        TranslatedBlock? next;
        if (exit >= 0)
        {
            BlockExitLink link = from.Exits[exit];
            next = link.Link;
            if (next is not null && next.Valid && link.Epoch == epoch)
            {
                CountHit();
                return next;
            }
            next = Lookup(link.Target);
            link.Link = next;
            link.Epoch = epoch;
            return next;
        }
        return Lookup(S.Pc);
    }

    /// <summary>A dispatch served by a link or the jump cache counts as a hit of the translation cache (chained entries inside compiled code are not dispatches).</summary>
    private void CountHit()
    {
        Cache.Statistics.Lookups++;
        Cache.Statistics.Hits++;
    }

    /// <summary>Finds the block at virtual <paramref name="pc"/>, translating it once it is hot; null when it must be interpreted.</summary>
    private TranslatedBlock? Lookup(uint pc, bool mayHeadRegion = true)
    {
        HartState s = S;
        int slot = (int)(pc >> 2) & (TranslationContext.JumpCacheSize - 1);
        TranslatedBlock? cached = _context.JumpCache[slot];
        if (cached is not null && cached.Valid && cached.EntryPc == pc && cached.Mode == s.Privilege &&
            _context.JumpEpoch[slot] == Epoch)
        {
            CountHit();
            return cached;
        }
        if (!_mmu.TranslateFetch(pc, out uint physical))
        {
            return null; // the interpreter raises the fetch fault
        }
        if (!_mmu.FetchPageMapped(pc))
        {
            return null; // PMP splits this page (perhaps since the block was made): the interpreter checks every fetch
        }
        var key = new BlockKey(pc, physical, s.Privilege, _mmu.Translates(s.Privilege));
        if (!Cache.TryGet(key, out TranslatedBlock block))
        {
            if (!mayHeadRegion)
            {
                return null;
            }
            int heat = _heat.GetValueOrDefault(key) + 1;
            if (heat < TranslationThreshold)
            {
                _heat[key] = heat;
                return null;
            }
            TranslatedBlock? translated = Translate(key);
            if (translated is null)
            {
                return null;
            }
            block = translated;
        }
        _context.JumpCache[slot] = block;
        _context.JumpEpoch[slot] = Epoch;
        return block;
    }

    private TranslatedBlock? Translate(in BlockKey key)
    {
        uint page = key.PhysicalPc & ~0xFFFu;
        if (_mmu.Pmp.PagePermissions(page, S.Privilege) is not byte executable || (executable & Pmp.X) == 0)
        {
            _heat.Remove(key);
            return null; // PMP splits this page: check every fetch on the interpreter
        }
        RegionSignature? queued = null;
        if (BackgroundCompilation && _pending.TryGetValue(key, out queued) && !_compiledCode.IsReady(queued))
        {
            return null; // still compiling: keep interpreting
        }
        long startTicks = Stopwatch.GetTimestamp();
        if (BackgroundCompilation && queued is not null && queued.MatchesMemory(_bus.Ram, key.PhysicalPc & ~0xFFFu) &&
            _compiledCode.TryGetReady(queued, out CompiledRegion ready))
        {
            // The region queued earlier is compiled and its code unchanged in memory: take it as
            // it is. Decoding again would give a different region whenever other regions were
            // made meanwhile (a region stops where another starts), and queue that one instead.
            _pending.Remove(key);
            Cache.Statistics.JitTicks += ready.JitTicks;
            Cache.Statistics.EmitTicks += ready.EmitTicks;
            return Bind(ready, key, startTicks, compiledNow: false);
        }
        BlockKey k0 = key;
        BlockDecoder.Decode(_bus.Ram, key.VirtualPc, key.PhysicalPc, MaxBlockLength, _trace,
            pc => Cache.Contains(k0 with { VirtualPc = pc, PhysicalPc = (k0.PhysicalPc & ~0xFFFu) | (pc & 0xFFF) }),
            pc => _interpreter.Cache.WasDecoded((k0.PhysicalPc & ~0xFFFu) | (pc & 0xFFF)));
        uint entry = key.VirtualPc;
        bool instrumented = _context.Profile is not null;
        var signature = new RegionSignature(entry, _trace, instrumented);
        CompiledRegion region;
        bool compiledNow = false;
        if (BackgroundCompilation)
        {
            // The signature is taken from memory now; if the code changed while the compiler was
            // at work, the region compiled is not this one and the new code is queued instead.
            if (!_compiledCode.TryGetReady(signature, out region))
            {
                TraceInstruction[] snapshot = [.. _trace];
                _compiledCode.CompileInBackground(signature, () => BlockCompiler.Compile(entry, snapshot, new TranslationCacheStatistics(), instrumented));
                _pending[key] = signature;
                return null; // interpret until the compiler is done
            }
            _pending.Remove(key);
            Cache.Statistics.JitTicks += region.JitTicks;
            Cache.Statistics.EmitTicks += region.EmitTicks;
        }
        else
        {
            region = _compiledCode.GetOrCompile(signature, () => BlockCompiler.Compile(entry, _trace, Cache.Statistics, instrumented), out compiledNow);
        }
        return Bind(region, key, startTicks, compiledNow);
    }

    /// <summary>Binds a compiled region to this VM as the block for <paramref name="key"/> and caches it.</summary>
    private TranslatedBlock Bind(CompiledRegion region, in BlockKey key, long startTicks, bool compiledNow)
    {
        _heat.Remove(key);
        long jitStart = Stopwatch.GetTimestamp();
        TranslatedBlock block = BlockCompiler.Instantiate(region, key, _context);
        long end = Stopwatch.GetTimestamp();
        if (compiledNow)
        {
            Cache.Statistics.JitTicks += end - jitStart;
            Cache.Statistics.Compilations++;
        }
        else
        {
            Cache.Statistics.SharedReuses++;
        }
        Cache.Add(block, end - startTicks);
        Statistics.BlocksTranslated = Cache.Statistics.Translations;
        Statistics.TranslationTicks = Cache.Statistics.TranslationTicks;
        return block;
    }
}
