namespace Hypervisor.Memory;

/// <summary>
/// Words of guest RAM the monitor has replaced with a trapping word (binary patching), with the
/// original instruction kept aside, so that the guest never sees the patch.
/// </summary>
/// <remarks>
/// Pages are patched when code is first fetched from them (so code the guest writes at run time is
/// patched too), and from then on the page is managed: the MMU keeps no load or store mappings for
/// it, so every data access comes through the bus: a load of a patched word returns the original
/// bytes; a store lands in the original words and every word it touched is patched again if it is
/// (now) a control-flow instruction. Instruction fetch reads RAM and so sees the trap words.
/// </remarks>
public sealed class PatchTable
{
    /// <summary>The trapping word: an encoding of the custom-0 opcode, illegal on this hart.</summary>
    public const uint TrapWord = 0x0000_000B;

    private readonly Dictionary<uint, uint> _originals = [];
    private readonly HashSet<uint> _managedPages = [];
    private readonly Func<uint, bool> _shouldPatch;

    /// <param name="shouldPatch">Whether an instruction word is one to patch (a control-flow instruction).</param>
    public PatchTable(Func<uint, bool> shouldPatch) => _shouldPatch = shouldPatch;

    public int Count => _originals.Count;

    public bool TryGetOriginal(uint physicalAddress, out uint original) => _originals.TryGetValue(physicalAddress, out original);

    /// <summary>True once the page holding <paramref name="physicalAddress"/> has been scanned and patched.</summary>
    public bool IsPatchedPage(uint physicalAddress) => _managedPages.Contains(physicalAddress & ~0xFFFu);

    /// <summary>Marks a page as managed (scanned); false if it already was.</summary>
    internal bool Manage(uint physicalPage) => _managedPages.Add(physicalPage & ~0xFFFu);

    public bool ShouldPatch(uint word) => _shouldPatch(word);

    /// <summary>Forgets every patch (the image was reloaded).</summary>
    internal void Clear()
    {
        _originals.Clear();
        _managedPages.Clear();
    }

    internal void SetOriginal(uint physicalAddress, uint original) => _originals[physicalAddress] = original;

    internal void Remove(uint physicalAddress) => _originals.Remove(physicalAddress);
}
