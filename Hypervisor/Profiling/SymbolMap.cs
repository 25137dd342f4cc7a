using Hypervisor.Loading;

namespace Hypervisor.Profiling;

/// <summary>A named piece of guest code: a function symbol, or an assembly label (no type, no size) that code runs under.</summary>
public sealed record CodeSymbol(string Name, uint Address, uint Size, bool IsFunction);

/// <summary>
/// Names code addresses from an image's symbol table: the function symbol whose [address, address +
/// size) holds the address, else the nearest label before it in code (assembly entry points such
/// as <c>_start</c> or a trap vector have no type and no size).
/// </summary>
public sealed class SymbolMap
{
    private readonly CodeSymbol[] _functions;
    private readonly CodeSymbol[] _labels;

    public SymbolMap(ElfImage image)
    {
        var seen = new HashSet<(string, uint)>();
        var functions = new List<CodeSymbol>();
        var labels = new List<CodeSymbol>();
        foreach (ElfSymbol s in image.Symbols)
        {
            if (s.Name.StartsWith('$') || !InCode(image, s.Address) || !seen.Add((s.Name, s.Address)))
            {
                continue; // mapping symbols ($x, $d) and data
            }
            if (s.IsFunction && s.Size > 0)
            {
                functions.Add(new CodeSymbol(s.Name, s.Address, s.Size, true));
            }
            else if (!s.IsFunction && s.Size == 0 && !s.Name.StartsWith("__", StringComparison.Ordinal))
            {
                labels.Add(new CodeSymbol(s.Name, s.Address, 0, false)); // __bss_start, __user_start: linker markers, not code
            }
        }
        _functions = [.. functions.OrderBy(f => f.Address).ThenBy(f => f.Name, StringComparer.Ordinal)];
        _labels = [.. labels.OrderBy(f => f.Address).ThenBy(f => f.Name, StringComparer.Ordinal)];
    }

    /// <summary>Function symbols (typed, sized), by address.</summary>
    public IReadOnlyList<CodeSymbol> Functions => _functions;

    /// <summary>The function or label <paramref name="address"/> belongs to, or null when nothing names it.</summary>
    public CodeSymbol? Find(uint address)
    {
        CodeSymbol? function = Floor(_functions, address);
        if (function is not null && address - function.Address < function.Size)
        {
            return function;
        }
        CodeSymbol? label = Floor(_labels, address);
        if (label is null)
        {
            return null;
        }
        // A label names the code after it only up to the next function.
        CodeSymbol? next = Ceiling(_functions, label.Address);
        return next is not null && next.Address <= address ? null : label;
    }

    /// <summary>"name+0xoffset", or the bare address when no symbol names it.</summary>
    public string Describe(uint address)
    {
        CodeSymbol? s = Find(address);
        return s is null ? $"0x{address:x8}" : $"{s.Name}+0x{address - s.Address:x}";
    }

    private static bool InCode(ElfImage image, uint address)
    {
        foreach (LoadSegment seg in image.Segments)
        {
            if (seg.Executable && address - seg.PhysicalAddress < (uint)seg.Data.Length)
            {
                return true;
            }
        }
        return false;
    }

    private static CodeSymbol? Floor(CodeSymbol[] sorted, uint address)
    {
        int lo = 0, hi = sorted.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid].Address <= address)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found < 0 ? null : sorted[found];
    }

    private static CodeSymbol? Ceiling(CodeSymbol[] sorted, uint address)
    {
        foreach (CodeSymbol s in sorted)
        {
            if (s.Address >= address)
            {
                return s;
            }
        }
        return null;
    }
}
