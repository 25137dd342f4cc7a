using Hypervisor.Cpu;
using Hypervisor.Isa;
using Hypervisor.Memory;

namespace Hypervisor.Profiling;

/// <summary>
/// The binary-patching profiler: patches every control-flow instruction of the guest image with a
/// trapping word; when the hart traps on one, records the edge and executes the original in the
/// monitor. Works on every engine, the interpreter included, and the guest cannot tell.
/// </summary>
/// <remarks>
/// Patching needs only what the lecture's homework allows: the instruction length (always 4 bytes
/// here) and which instructions transfer control (branches, JAL, JALR). Every word of a page code
/// runs from that decodes as such is patched, when the page is first fetched — including data that
/// happens to look like a branch, which is harmless because loads return the original bytes.
/// </remarks>
public sealed class BinaryPatcher : IPatchedInstructions
{
    private readonly HartState _state;
    private readonly Hart _hart;
    private readonly Mmu _mmu;
    private readonly SystemBus _bus;
    private readonly ControlFlowProfile _profile;
    private readonly PatchTable _table;

    public BinaryPatcher(Hart hart, SystemBus bus, ControlFlowProfile profile)
    {
        _hart = hart;
        _state = hart.State;
        _mmu = hart.Mmu;
        _bus = bus;
        _profile = profile;
        _table = new PatchTable(IsPatchable);
        bus.UsePatches(_table);
        hart.Patches = this;
    }

    /// <summary>Patches made.</summary>
    public int PatchCount => _table.Count;

    /// <summary>Patched instructions executed (monitor callouts).</summary>
    public long Hits { get; private set; }

    public static bool IsPatchable(uint word) => OpcodeInfo.IsControlFlow(Decoder.Decode(word).Op);

    /// <summary>
    /// Turns patching on: from now on every page code is fetched from is scanned and its
    /// control-flow instructions are patched before it runs (so code the guest writes at run time
    /// is covered too). The MMU forgets its mappings so the next fetch of every page patches it.
    /// </summary>
    public void Start()
    {
        _table.Clear();
        _mmu.FlushAll();
    }

    public bool TryExecutePatched()
    {
        HartState s = _state;
        uint pc = s.Pc;
        if (!_mmu.TranslateFetch(pc, out uint pa) || !_table.TryGetOriginal(pa, out uint word))
        {
            return false;
        }
        Hits++;
        Instruction i = Decoder.Decode(word);
        uint[] x = s.X;
        uint target;
        switch (i.Op)
        {
            case Opcode.Jal:
                target = pc + (uint)i.Imm;
                break;
            case Opcode.Jalr:
                target = (x[i.Rs1] + (uint)i.Imm) & ~1u;
                break;
            default:
                bool taken = i.Op switch
                {
                    Opcode.Beq => x[i.Rs1] == x[i.Rs2],
                    Opcode.Bne => x[i.Rs1] != x[i.Rs2],
                    Opcode.Blt => (int)x[i.Rs1] < (int)x[i.Rs2],
                    Opcode.Bge => (int)x[i.Rs1] >= (int)x[i.Rs2],
                    Opcode.Bltu => x[i.Rs1] < x[i.Rs2],
                    _ => x[i.Rs1] >= x[i.Rs2],
                };
                target = taken ? pc + (uint)i.Imm : pc + 4;
                break;
        }
        if ((target & 3) != 0)
        {
            _hart.RaiseException(ExceptionCause.InstructionAddressMisaligned, target);
            return true;
        }
        if (i.Op is Opcode.Jal or Opcode.Jalr && i.Rd != 0)
        {
            x[i.Rd] = pc + 4;
        }
        _profile.Record(pc, target);
        s.Pc = target;
        return true;
    }
}
