using System.Diagnostics;
using Hypervisor.Cpu;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Translation;

/// <summary>Translation-cache counters.</summary>
public sealed class TranslationCacheStatistics
{
    public long Lookups;
    public long Hits;
    public long Misses;
    public long Translations;
    public long TranslatedInstructions;
    public long TranslationTicks;
    public long Evictions;
    public long Invalidations;
    public long Flushes;

    /// <summary>Part of the translation time spent emitting IL, and the part in the .NET JIT (CreateDelegate).</summary>
    public long EmitTicks;
    public long JitTicks;

    /// <summary>IL bytes emitted.</summary>
    public long IlBytes;

    /// <summary>Blocks this VM compiled itself, and blocks it took already compiled from another VM (same code).</summary>
    public long Compilations;
    public long SharedReuses;

    /// <summary>Time spent translating (IL emission and JIT), in seconds.</summary>
    public double TranslationSeconds => TranslationTicks / (double)Stopwatch.Frequency;

    public double HitRate => Lookups == 0 ? 0 : (double)Hits / Lookups;
}

/// <summary>
/// Translated blocks of one VM, keyed by <see cref="BlockKey"/>, bounded in size, with a per-page
/// index so that a store into guest code invalidates exactly the blocks it overlaps.
/// </summary>
/// <remarks>
/// Pages that hold translated code are marked on the bus, so every store to them (any engine path,
/// AMOs and MMU A/D updates included) reaches <see cref="OnCodeWritten"/>. Invalidation marks the
/// blocks invalid (links to them are then ignored), drops them from the cache and raises the
/// hart's code-changed attention so a block that is running stops before stale instructions.
/// When the cache is full it is flushed whole, as QEMU does with its code buffer.
/// </remarks>
public sealed class TranslationCache : ICodeWriteObserver
{
    private readonly Dictionary<BlockKey, TranslatedBlock> _blocks = [];
    private readonly Dictionary<uint, List<TranslatedBlock>> _byPage = [];
    private readonly SystemBus _bus;
    private readonly Hart _hart;

    public TranslationCache(SystemBus bus, Hart hart, int capacity = DefaultCapacity)
    {
        _bus = bus;
        _hart = hart;
        Capacity = capacity;
        bus.AddCodeObserver(this);
    }

    public const int DefaultCapacity = 16384;

    /// <summary>Most blocks held before the cache is flushed.</summary>
    public int Capacity { get; }

    public int Count => _blocks.Count;

    public TranslationCacheStatistics Statistics { get; } = new();

    /// <summary>Raised after a block was translated, with the stopwatch ticks its translation took.</summary>
    public event Action<TranslatedBlock, long>? BlockAdded;

    /// <summary>Bumped on every flush; links made before it are stale.</summary>
    public long Generation { get; private set; }

    /// <summary>Whether a block for <paramref name="key"/> is cached (not counted as a lookup: the region decoder asks it).</summary>
    public bool Contains(in BlockKey key) => _blocks.ContainsKey(key);

    public bool TryGet(in BlockKey key, out TranslatedBlock block)
    {
        Statistics.Lookups++;
        if (_blocks.TryGetValue(key, out TranslatedBlock? b))
        {
            Statistics.Hits++;
            block = b;
            return true;
        }
        Statistics.Misses++;
        block = null!;
        return false;
    }

    public void Add(TranslatedBlock block, long ticks)
    {
        if (_blocks.Count >= Capacity)
        {
            Statistics.Evictions += _blocks.Count;
            Flush();
        }
        _blocks[block.Key] = block;
        uint page = block.Key.PhysicalPc & ~0xFFFu;
        if (!_byPage.TryGetValue(page, out List<TranslatedBlock>? list))
        {
            list = [];
            _byPage.Add(page, list);
            _bus.MarkCodePage(page);
        }
        list.Add(block);
        Statistics.Translations++;
        Statistics.TranslatedInstructions += block.Length;
        Statistics.TranslationTicks += ticks;
        BlockAdded?.Invoke(block, ticks);
    }

    public void OnCodeWritten(uint physicalAddress, int size)
    {
        uint end = physicalAddress + (uint)size;
        for (uint page = physicalAddress & ~0xFFFu; page < end; page += 0x1000)
        {
            if (!_byPage.TryGetValue(page, out List<TranslatedBlock>? list))
            {
                continue;
            }
            for (int i = list.Count - 1; i >= 0; i--)
            {
                TranslatedBlock b = list[i];
                if (b.PhysicalStart < end && physicalAddress < b.PhysicalEnd)
                {
                    b.Valid = false;
                    _blocks.Remove(b.Key);
                    list.RemoveAt(i);
                    Statistics.Invalidations++;
                    _hart.Attention |= Hart.AttentionCodeChanged;
                }
            }
        }
    }

    /// <summary>Drops every translation (FENCE.I, cache full, reset).</summary>
    public void Flush()
    {
        foreach (TranslatedBlock b in _blocks.Values)
        {
            b.Valid = false;
        }
        _blocks.Clear();
        _byPage.Clear();
        Statistics.Flushes++;
        Generation++;
        _hart.Attention |= Hart.AttentionCodeChanged;
    }
}
