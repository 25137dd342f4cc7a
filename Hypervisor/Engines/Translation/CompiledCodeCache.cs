using Hypervisor.Memory;
using Hypervisor.Isa;
using System.Collections.Concurrent;
using System.Reflection.Emit;

namespace Hypervisor.Engines.Translation;

/// <summary>The exact guest code a block was compiled from: its entry pc and every (pc, word) of its region.</summary>
/// <remarks>Compiled code depends on nothing else (not the VM, the privilege or the physical address), so equal signatures may share it.</remarks>
public sealed class RegionSignature : IEquatable<RegionSignature>
{
    private readonly uint[] _pcsAndWords;
    private readonly int _hash;

    public RegionSignature(uint entryPc, IReadOnlyList<TraceInstruction> region, bool instrumented = false)
    {
        EntryPc = entryPc;
        Instrumented = instrumented;
        _pcsAndWords = new uint[region.Count * 2];
        var hash = new HashCode();
        hash.Add(entryPc);
        hash.Add(instrumented);
        for (int i = 0; i < region.Count; i++)
        {
            _pcsAndWords[2 * i] = region[i].Pc;
            _pcsAndWords[2 * i + 1] = region[i].Instruction.Raw;
            hash.Add(region[i].Pc);
            hash.Add(region[i].Instruction.Raw);
        }
        _hash = hash.ToHashCode();
    }

    public uint EntryPc { get; }

    /// <summary>
    /// Whether guest memory still holds this region's words, reading each pc's offset within
    /// <paramref name="physicalPage"/> (regions stay within one page).
    /// </summary>
    public bool MatchesMemory(GuestRam ram, uint physicalPage)
    {
        for (int i = 0; i < _pcsAndWords.Length; i += 2)
        {
            if (ram.Read(physicalPage + (_pcsAndWords[i] & 0xFFF) - ram.Base, 4) != _pcsAndWords[i + 1])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Compiled with profiling counters (a different method from the plain one).</summary>
    public bool Instrumented { get; }

    public bool Equals(RegionSignature? other) =>
        other is not null && other._hash == _hash && other.EntryPc == EntryPc && other.Instrumented == Instrumented &&
        other._pcsAndWords.AsSpan().SequenceEqual(_pcsAndWords);

    public override bool Equals(object? obj) => Equals(obj as RegionSignature);

    public override int GetHashCode() => _hash;
}

/// <summary>A compiled region: the dynamic method and what every instance of it needs to know.</summary>
public sealed record CompiledRegion(DynamicMethod Method, int Length, Instruction[] Callouts, uint PageLow, uint PageHigh, IReadOnlyList<uint> ExitTargets, int IlBytes)
{
    /// <summary>Stopwatch ticks spent emitting IL and in the .NET JIT for this region.</summary>
    public long EmitTicks { get; init; }

    public long JitTicks { get; set; }

    /// <summary>Highest profiling edge slot the code counts (-1 when not instrumented).</summary>
    public int MaxEdgeSlot { get; init; } = -1;
}

/// <summary>
/// Compiled blocks shared by every VM of the process, keyed by the exact guest code. A fleet of
/// VMs running the same image compiles each hot block once; each VM then only binds the compiled
/// method to its own <see cref="BlockFrame"/> (CreateDelegate on a compiled dynamic method is cheap).
/// </summary>
/// <remarks>
/// Thread-safe: VMs translate on their own threads. A region is compiled once even when several
/// VMs ask at the same time. The cache is bounded; when full it starts over (blocks already bound
/// in VMs keep working, they just are not shared with later VMs).
/// </remarks>
public sealed class CompiledCodeCache
{
    private readonly ConcurrentDictionary<RegionSignature, Lazy<CompiledRegion>> _regions = new();
    private readonly BlockingCollection<Lazy<CompiledRegion>> _backgroundQueue = new();
    private readonly Lazy<Thread> _backgroundWorker;
    private long _compilations;
    private long _reuses;

    public CompiledCodeCache(int capacity = 65536)
    {
        Capacity = capacity;
        _backgroundWorker = new Lazy<Thread>(StartWorker, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The cache every VM uses unless it is given its own.</summary>
    public static CompiledCodeCache Shared { get; } = new();

    public int Capacity { get; }

    public int Count => _regions.Count;

    public long Compilations => Interlocked.Read(ref _compilations);

    public long Reuses => Interlocked.Read(ref _reuses);

    /// <summary>True when <paramref name="signature"/> is compiled and JIT-ed.</summary>
    public bool IsReady(RegionSignature signature) =>
        _regions.TryGetValue(signature, out Lazy<CompiledRegion>? lazy) && lazy.IsValueCreated;

    /// <summary>The compiled region for <paramref name="signature"/> if it is ready (compiled and JIT-ed).</summary>
    public bool TryGetReady(RegionSignature signature, out CompiledRegion region)
    {
        if (_regions.TryGetValue(signature, out Lazy<CompiledRegion>? lazy) && lazy.IsValueCreated)
        {
            region = lazy.Value;
            Interlocked.Increment(ref _reuses);
            return true;
        }
        region = null!;
        return false;
    }

    /// <summary>
    /// Queues <paramref name="signature"/> for compilation on the background compiler thread (once);
    /// <see cref="TryGetReady"/> answers when it is done. The VM keeps interpreting meanwhile, so
    /// the JIT's time comes off the VM's own thread.
    /// </summary>
    public void CompileInBackground(RegionSignature signature, Func<CompiledRegion> compile)
    {
        if (_regions.Count >= Capacity)
        {
            _regions.Clear();
        }
        bool added = false;
        Lazy<CompiledRegion> lazy = _regions.GetOrAdd(signature, _ =>
        {
            added = true;
            return new Lazy<CompiledRegion>(() =>
            {
                CompiledRegion region = compile();
                ForceJit(region);
                Interlocked.Increment(ref _compilations);
                return region;
            }, LazyThreadSafetyMode.ExecutionAndPublication);
        });
        if (added)
        {
            _ = _backgroundWorker.Value;
            _backgroundQueue.Add(lazy);
        }
    }

    private long _backgroundFailures;

    /// <summary>Regions the background compiler failed to compile (their VMs interpret them).</summary>
    public long BackgroundFailures => Interlocked.Read(ref _backgroundFailures);

    /// <summary>The last exception a background compilation ended in, for diagnosis.</summary>
    public Exception? LastBackgroundFailure { get; private set; }

    /// <summary>Pending background compilations.</summary>
    public int QueueLength => _backgroundQueue.Count;

    private Thread StartWorker()
    {
        var worker = new Thread(() =>
        {
            foreach (Lazy<CompiledRegion> job in _backgroundQueue.GetConsumingEnumerable())
            {
                try
                {
                    _ = job.Value;
                }
                catch (Exception e)
                {
                    // A region that fails to compile (the JIT refuses it, or a translator bug)
                    // stays uncompiled and its VM goes on interpreting it: a failure on this
                    // shared thread must not take down the host process and every VM in it.
                    Interlocked.Increment(ref _backgroundFailures);
                    LastBackgroundFailure = e;
                }
            }
        })
        {
            IsBackground = true,
            Name = "hv-block-compiler",
            Priority = ThreadPriority.BelowNormal,
        };
        worker.Start();
        return worker;
    }

    /// <summary>Runs the JIT on a compiled region now (binding a placeholder frame), so that binding it in a VM later is cheap.</summary>
    private static void ForceJit(CompiledRegion region)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var placeholder = (BlockFrame)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(BlockFrame));
        _ = region.Method.CreateDelegate<BlockCode>(placeholder);
        region.JitTicks = System.Diagnostics.Stopwatch.GetTimestamp() - start;
    }

    /// <summary>Returns the compiled region for <paramref name="signature"/>, compiling it with <paramref name="compile"/> if no VM has yet.</summary>
    public CompiledRegion GetOrCompile(RegionSignature signature, Func<CompiledRegion> compile, out bool compiledNow)
    {
        if (_regions.Count >= Capacity)
        {
            _regions.Clear();
        }
        bool created = false;
        Lazy<CompiledRegion> lazy = _regions.GetOrAdd(signature, _ => new Lazy<CompiledRegion>(() =>
        {
            created = true;
            return compile();
        }, LazyThreadSafetyMode.ExecutionAndPublication));
        CompiledRegion region = lazy.Value;
        compiledNow = created;
        Interlocked.Increment(ref created ? ref _compilations : ref _reuses);
        return region;
    }
}
