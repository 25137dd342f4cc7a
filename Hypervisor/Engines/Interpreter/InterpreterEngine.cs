using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hypervisor.Cpu;
using Hypervisor.Isa;
using Hypervisor.Memory;
using Hypervisor.Monitor;
using Hypervisor.Profiling;

namespace Hypervisor.Engines.Interpreter;

/// <summary>The reference engine: fetch, decode (once, cached per page), execute, check for interrupts after every instruction.</summary>
/// <remarks>
/// This is the oracle the other engines are compared against, so it stays a plain switch over
/// <see cref="Opcode"/> with each instruction's meaning in one case. Speed comes from the
/// pre-decode cache, the MMU's inlined TLB fast paths and keeping pc in a local.
/// </remarks>
public sealed class InterpreterEngine : ExecutionEngineBase, IProfilingEngine
{
    /// <summary>A page tag no pc matches: the page is fetched word by word (PMP splits it).</summary>
    private const uint UncachedPage = 2;

    private static readonly Instruction[] NoPage = new Instruction[DecodeCache.SlotsPerPage];

    private readonly HartState _s;
    private readonly Mmu _mmu;

    public InterpreterEngine(Hart hart, SystemBus bus, bool eagerDecode = false)
        : base(hart)
    {
        _s = hart.State;
        _mmu = hart.Mmu;
        Cache = new DecodeCache(bus, eagerDecode);
    }

    public override string Name => "interp";

    public DecodeCache Cache { get; }

    /// <summary>When set, every branch and jump the loop executes is recorded (profiling by instrumentation).</summary>
    public ControlFlowProfile? Profile { get; set; }

    public override void FlushCode()
    {
        Cache.Clear();
        _lastPage = NoPage;
        _lastPageTag = 1;
    }

    /// <summary>Executes exactly one instruction (taking a pending interrupt first); other engines use it for exact budgets.</summary>
    public StopReason Step() => Run(1);

    protected override ChunkExit RunChunk(ulong n) => RunInstructions(n);

    /// <summary>Interprets at most <paramref name="n"/> instructions (the other engines' exact-budget and fallback path).</summary>
    public ChunkExit RunInstructions(ulong n) => Count(Execute<WholeChunk>(n));

    /// <summary>
    /// Interprets at most <paramref name="n"/> instructions, stopping after the first control-flow
    /// instruction or trap: one basic block, for engines that interpret code until it is hot.
    /// </summary>
    public ChunkExit RunBasicBlock(ulong n) => Count(Execute<OneBasicBlock>(n));

    /// <summary>
    /// After <see cref="RunBasicBlock"/>: whether the pc it stopped at may head a translated region
    /// — the target of a backward branch or jump (a loop head), of a call or an indirect jump (a
    /// function, a return point), or the place a trap or callout left off. False after a forward
    /// branch: that code belongs to the region of the loop or function around it, and counting it
    /// would compile the same code again from its middle.
    /// </summary>
    public bool TransferReachedHead { get; private set; } = true;

    /// <summary>
    /// Direct execution (the hybrid engine's tier): runs the pre-decoded instructions of the current
    /// page in the tight loop, with no privilege handling. It stops, with exact state, when control
    /// leaves the page (<see cref="ChunkExit.PageExit"/>), at a privileged or system instruction,
    /// which it does not execute (<see cref="ChunkExit.Trap"/>: the monitor emulates it), after a
    /// fault was raised, on attention, or after <paramref name="n"/> instructions.
    /// </summary>
    public ChunkExit RunDirect(ulong n) => Execute<DirectExecution>(n);

    /// <summary>The instruction direct execution stopped at with <see cref="ChunkExit.Trap"/> (already decoded: the monitor need not fetch it again).</summary>
    public Instruction TrappedInstruction { get; private set; }

    private ulong _countFrom;

    private ChunkExit Count(ChunkExit exit)
    {
        Statistics.InstructionsInterpreted += (long)(_s.Executed - _countFrom);
        return exit;
    }


    /// <summary>
    /// The interpreter loop, specialised by the JIT for each mode (a struct type argument), so the
    /// modes' checks cost nothing where they are off.
    /// </summary>
    private ChunkExit Execute<TMode>(ulong n)
        where TMode : struct, IInterpreterMode
    {
        _countFrom = _s.Executed;
        if (TMode.StopAfterTransfer)
        {
            TransferReachedHead = true;
        }
        HartState s = _s;
        Mmu mmu = _mmu;
        var x = new RegisterFile(s.X);
        ulong cycle = s.Cycle;
        ulong stop = cycle + n;
        uint pc = s.Pc;
        uint pageTag = 1;
        Instruction[] page = NoPage;

        // Register and branch instructions cannot change interrupt state or ask for a stop, so
        // only memory accesses (MMIO), callouts and traps look at Attention afterwards: that is
        // the interrupt check after every instruction, done where the answer can have changed.
        // s.Cycle is synchronised before anything that can read the clock (MMIO, callouts, traps).
        while (cycle < stop)
        {
            if ((pc & 0xFFFFF000) != pageTag)
            {
                if (TMode.PageConfined && pageTag != 1)
                {
                    s.Cycle = cycle;
                    s.Pc = pc;
                    return ChunkExit.PageExit;
                }
                s.Cycle = cycle;
                if ((pc & 0xFFFFF000) == _lastPageTag && _lastPageEpoch == mmu.FlushEpoch && _lastPagePrivilege == s.Privilege)
                {
                    // Same page as the last call ended on (direct execution re-enters after every trap).
                    page = _lastPage;
                    _pagePhysical = _lastPagePhysical;
                    pageTag = _lastPageTag;
                }
                else
                {
                    if (!mmu.TranslateFetch(pc, out uint pa))
                    {
                        goto Fault;
                    }
                    _pagePhysical = pa & 0xFFFFF000;
                    page = Cache.GetPage(_pagePhysical);
                    if (!mmu.FetchPageMapped(pc))
                    {
                        // PMP splits the page (or it is all zeros): check the next fetch again, and
                        // in direct execution leave the tier after this instruction.
                        pageTag = UncachedPage;
                    }
                    else
                    {
                        pageTag = pc & 0xFFFFF000;
                        _lastPage = page;
                        _lastPageTag = pageTag;
                        _lastPagePhysical = _pagePhysical;
                        _lastPageEpoch = mmu.FlushEpoch;
                        _lastPagePrivilege = s.Privilege;
                    }
                }
            }
            // page always holds SlotsPerPage slots and the index is masked to them: no range check.
            ref Instruction i = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(page), (int)((pc >> 2) & (DecodeCache.SlotsPerPage - 1)));
            uint value;
            uint target;
            switch (i.Op)
            {
                case Opcode.Undecoded:
                    Cache.Fill(page, _pagePhysical | (pc & 0xFFF)); // first execution of this word: decode it, then dispatch again
                    continue;

                case Opcode.Nop: pc += 4; cycle++; continue;
                case Opcode.Lui: x[i.Rd] = (uint)i.Imm; pc += 4; cycle++; continue;
                case Opcode.Auipc: x[i.Rd] = pc + (uint)i.Imm; pc += 4; cycle++; continue;
                case Opcode.Jal: target = pc + (uint)i.Imm; goto Jump;
                case Opcode.Jalr: target = (x[i.Rs1] + (uint)i.Imm) & ~1u; goto Jump;

                case Opcode.Beq: if (x[i.Rs1] == x[i.Rs2]) { goto Branch; } goto NotTaken;
                case Opcode.Bne: if (x[i.Rs1] != x[i.Rs2]) { goto Branch; } goto NotTaken;
                case Opcode.Blt: if ((int)x[i.Rs1] < (int)x[i.Rs2]) { goto Branch; } goto NotTaken;
                case Opcode.Bge: if ((int)x[i.Rs1] >= (int)x[i.Rs2]) { goto Branch; } goto NotTaken;
                case Opcode.Bltu: if (x[i.Rs1] < x[i.Rs2]) { goto Branch; } goto NotTaken;
                case Opcode.Bgeu: if (x[i.Rs1] >= x[i.Rs2]) { goto Branch; } goto NotTaken;

                case Opcode.Lb: s.Cycle = cycle; if (!mmu.Load8(x[i.Rs1] + (uint)i.Imm, out value)) { goto Fault; } x[i.Rd] = (uint)(sbyte)value; goto LoadDone;
                case Opcode.Lh: s.Cycle = cycle; if (!mmu.Load16(x[i.Rs1] + (uint)i.Imm, out value)) { goto Fault; } x[i.Rd] = (uint)(short)value; goto LoadDone;
                case Opcode.Lw: s.Cycle = cycle; if (!mmu.Load32(x[i.Rs1] + (uint)i.Imm, out value)) { goto Fault; } x[i.Rd] = value; goto LoadDone;
                case Opcode.Lbu: s.Cycle = cycle; if (!mmu.Load8(x[i.Rs1] + (uint)i.Imm, out value)) { goto Fault; } x[i.Rd] = value; goto LoadDone;
                case Opcode.Lhu: s.Cycle = cycle; if (!mmu.Load16(x[i.Rs1] + (uint)i.Imm, out value)) { goto Fault; } x[i.Rd] = value; goto LoadDone;

                case Opcode.Sb: s.Cycle = cycle; if (!mmu.Store8(x[i.Rs1] + (uint)i.Imm, x[i.Rs2])) { goto Fault; } goto MemoryDone;
                case Opcode.Sh: s.Cycle = cycle; if (!mmu.Store16(x[i.Rs1] + (uint)i.Imm, x[i.Rs2])) { goto Fault; } goto MemoryDone;
                case Opcode.Sw: s.Cycle = cycle; if (!mmu.Store32(x[i.Rs1] + (uint)i.Imm, x[i.Rs2])) { goto Fault; } goto MemoryDone;

                case Opcode.Addi: x[i.Rd] = x[i.Rs1] + (uint)i.Imm; pc += 4; cycle++; continue;
                case Opcode.Slti: x[i.Rd] = (int)x[i.Rs1] < i.Imm ? 1u : 0u; pc += 4; cycle++; continue;
                case Opcode.Sltiu: x[i.Rd] = x[i.Rs1] < (uint)i.Imm ? 1u : 0u; pc += 4; cycle++; continue;
                case Opcode.Xori: x[i.Rd] = x[i.Rs1] ^ (uint)i.Imm; pc += 4; cycle++; continue;
                case Opcode.Ori: x[i.Rd] = x[i.Rs1] | (uint)i.Imm; pc += 4; cycle++; continue;
                case Opcode.Andi: x[i.Rd] = x[i.Rs1] & (uint)i.Imm; pc += 4; cycle++; continue;
                case Opcode.Slli: x[i.Rd] = x[i.Rs1] << i.Imm; pc += 4; cycle++; continue;
                case Opcode.Srli: x[i.Rd] = x[i.Rs1] >> i.Imm; pc += 4; cycle++; continue;
                case Opcode.Srai: x[i.Rd] = (uint)((int)x[i.Rs1] >> i.Imm); pc += 4; cycle++; continue;

                case Opcode.Add: x[i.Rd] = x[i.Rs1] + x[i.Rs2]; pc += 4; cycle++; continue;
                case Opcode.Sub: x[i.Rd] = x[i.Rs1] - x[i.Rs2]; pc += 4; cycle++; continue;
                case Opcode.Sll: x[i.Rd] = x[i.Rs1] << (int)(x[i.Rs2] & 31); pc += 4; cycle++; continue;
                case Opcode.Slt: x[i.Rd] = (int)x[i.Rs1] < (int)x[i.Rs2] ? 1u : 0u; pc += 4; cycle++; continue;
                case Opcode.Sltu: x[i.Rd] = x[i.Rs1] < x[i.Rs2] ? 1u : 0u; pc += 4; cycle++; continue;
                case Opcode.Xor: x[i.Rd] = x[i.Rs1] ^ x[i.Rs2]; pc += 4; cycle++; continue;
                case Opcode.Srl: x[i.Rd] = x[i.Rs1] >> (int)(x[i.Rs2] & 31); pc += 4; cycle++; continue;
                case Opcode.Sra: x[i.Rd] = (uint)((int)x[i.Rs1] >> (int)(x[i.Rs2] & 31)); pc += 4; cycle++; continue;
                case Opcode.Or: x[i.Rd] = x[i.Rs1] | x[i.Rs2]; pc += 4; cycle++; continue;
                case Opcode.And: x[i.Rd] = x[i.Rs1] & x[i.Rs2]; pc += 4; cycle++; continue;

                case Opcode.Mul: x[i.Rd] = x[i.Rs1] * x[i.Rs2]; pc += 4; cycle++; continue;
                case Opcode.Mulh: x[i.Rd] = (uint)(((long)(int)x[i.Rs1] * (int)x[i.Rs2]) >> 32); pc += 4; cycle++; continue;
                case Opcode.Mulhsu: x[i.Rd] = (uint)(((long)(int)x[i.Rs1] * (long)x[i.Rs2]) >> 32); pc += 4; cycle++; continue;
                case Opcode.Mulhu: x[i.Rd] = (uint)(((ulong)x[i.Rs1] * x[i.Rs2]) >> 32); pc += 4; cycle++; continue;
                case Opcode.Div: x[i.Rd] = Alu.Div(x[i.Rs1], x[i.Rs2]); pc += 4; cycle++; continue;
                case Opcode.Divu: x[i.Rd] = Alu.Divu(x[i.Rs1], x[i.Rs2]); pc += 4; cycle++; continue;
                case Opcode.Rem: x[i.Rd] = Alu.Rem(x[i.Rs1], x[i.Rs2]); pc += 4; cycle++; continue;
                case Opcode.Remu: x[i.Rd] = Alu.Remu(x[i.Rs1], x[i.Rs2]); pc += 4; cycle++; continue;

                case Opcode.LrW:
                case Opcode.ScW:
                case Opcode.AmoswapW:
                case Opcode.AmoaddW:
                case Opcode.AmoxorW:
                case Opcode.AmoandW:
                case Opcode.AmoorW:
                case Opcode.AmominW:
                case Opcode.AmomaxW:
                case Opcode.AmominuW:
                case Opcode.AmomaxuW:
                    s.Cycle = cycle;
                    if (TMode.TrapSystem)
                    {
                        s.Pc = pc;
                        TrappedInstruction = i;
                        return ChunkExit.Trap; // atomics are emulated by the monitor in direct execution
                    }
                    if (!Atomics.Execute(s, mmu, i))
                    {
                        goto Fault;
                    }
                    goto MemoryDone;

                case Opcode.Fence: pc += 4; cycle++; continue;

                default:
                    // System instructions, FENCE.I and illegal encodings: the monitor's routines.
                    s.Pc = pc;
                    s.Cycle = cycle;
                    if (TMode.TrapSystem)
                    {
                        TrappedInstruction = i;
                        return ChunkExit.Trap;
                    }
                    ChunkExit exit = Callout(i);
                    pc = s.Pc;
                    cycle = s.Cycle;
                    pageTag = 1;
                    if (exit != ChunkExit.Done)
                    {
                        return exit;
                    }
                    if (TMode.StopAfterTransfer)
                    {
                        goto Transfer;
                    }
                    continue;
            }

        Jump:
            if ((target & 3) != 0)
            {
                goto Misaligned;
            }
            x[i.Rd] = pc + 4;
            x[0] = 0;
            goto Taken;

        Branch:
            target = pc + (uint)i.Imm;
            if ((target & 3) != 0)
            {
                goto Misaligned;
            }

        Taken:
            Profile?.Record(pc, target); // a field read, not a local: one register fewer for the loop
            if (TMode.StopAfterTransfer)
            {
                TransferReachedHead = target <= pc || i.Op == Opcode.Jalr || (i.Op == Opcode.Jal && i.Rd != 0);
                pc = target;
                cycle++;
                goto Transfer;
            }
            pc = target;
            cycle++;
            continue;

        NotTaken:
            Profile?.Record(pc, pc + 4);
            pc += 4;
            cycle++;
            if (TMode.StopAfterTransfer)
            {
                TransferReachedHead = false;
                goto Transfer;
            }
            continue;

        LoadDone:
            x[0] = 0;

        MemoryDone:
            pc += 4;
            cycle++;
            if (Hart.Attention != 0)
            {
                s.Cycle = cycle;
                s.Pc = pc;
                return ChunkExit.Attention;
            }
            continue;

        Misaligned:
            s.Cycle = cycle;
            s.Pc = pc;
            Hart.RaiseException(ExceptionCause.InstructionAddressMisaligned, target);
            goto Trapped;

        Fault:
            s.Pc = pc;
            Hart.RaiseException(mmu.FaultCause, mmu.FaultValue);

        Trapped:
            pc = s.Pc;
            pageTag = 1;
            s.Cycle = ++cycle;
            if (Hart.Attention != 0)
            {
                return ChunkExit.Attention;
            }
            if (TMode.StopAfterTransfer || TMode.PageConfined)
            {
                goto Transfer; // a trap changes mode and page: direct execution hands back to its engine
            }
        }

    Transfer:
        s.Cycle = cycle;
        s.Pc = pc;
        return ChunkExit.Done;
    }

    private uint _pagePhysical;

    // The page the loop fetched from last, kept across calls while the MMU epoch and the privilege
    // are unchanged, so re-entering the loop (after every trap in direct execution) costs no lookup.
    private Instruction[] _lastPage = NoPage;
    private uint _lastPageTag = 1;
    private uint _lastPagePhysical;
    private long _lastPageEpoch = -1;
    private Privilege _lastPagePrivilege;

    /// <summary>Runs a system instruction through the hart's monitor routines; s.Pc and s.Cycle are current.</summary>
    private ChunkExit Callout(in Instruction i)
    {
        Statistics.Callouts++;
        SystemOutcome outcome = Hart.ExecuteSystem(i);
        _s.Cycle++;
        _s.X[0] = 0;
        if (outcome == SystemOutcome.FlushCode)
        {
            FlushCode();
        }
        else if (outcome == SystemOutcome.Idle)
        {
            return ChunkExit.Idle;
        }
        return Hart.Attention != 0 ? ChunkExit.Attention : ChunkExit.Done;
    }
}

/// <summary>What varies between the interpreter loop's uses (compile-time constants of the specialisation).</summary>
internal interface IInterpreterMode
{
    /// <summary>Stop after the first control transfer (branch, jump, trap, callout).</summary>
    static abstract bool StopAfterTransfer { get; }

    /// <summary>Stop when execution leaves the page it started in.</summary>
    static abstract bool PageConfined { get; }

    /// <summary>Do not execute system instructions and atomics: return <see cref="ChunkExit.Trap"/> at them.</summary>
    static abstract bool TrapSystem { get; }
}

/// <summary>The interpreter engine: run the whole chunk.</summary>
internal struct WholeChunk : IInterpreterMode
{
    public static bool StopAfterTransfer => false;
    public static bool PageConfined => false;
    public static bool TrapSystem => false;
}

/// <summary>One basic block of cold code, for the translator's hot threshold.</summary>
internal struct OneBasicBlock : IInterpreterMode
{
    public static bool StopAfterTransfer => true;
    public static bool PageConfined => false;
    public static bool TrapSystem => false;
}

/// <summary>The hybrid engine's direct-execution tier.</summary>
internal struct DirectExecution : IInterpreterMode
{
    public static bool StopAfterTransfer => false;
    public static bool PageConfined => true;
    public static bool TrapSystem => true;
}
