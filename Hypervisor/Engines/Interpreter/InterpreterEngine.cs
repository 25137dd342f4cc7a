using Hypervisor.Cpu;
using Hypervisor.Isa;
using Hypervisor.Memory;
using Hypervisor.Monitor;

namespace Hypervisor.Engines.Interpreter;

/// <summary>The reference engine: fetch, decode (once, cached per page), execute, check for interrupts after every instruction.</summary>
/// <remarks>
/// This is the oracle the other engines are compared against, so it stays a plain switch over
/// <see cref="Opcode"/> with each instruction's meaning in one case. Speed comes from the
/// pre-decode cache, the MMU's inlined TLB fast paths and keeping pc in a local.
/// </remarks>
public sealed class InterpreterEngine : IExecutionEngine
{
    private enum ChunkExit { Done, Attention, Idle }

    private static readonly Instruction[] NoPage = new Instruction[DecodeCache.SlotsPerPage];

    private readonly Hart _hart;
    private readonly HartState _s;
    private readonly Mmu _mmu;
    private readonly EventScheduler _events;

    public InterpreterEngine(Hart hart, SystemBus bus)
    {
        _hart = hart;
        _s = hart.State;
        _mmu = hart.Mmu;
        _events = hart.Events;
        Cache = new DecodeCache(bus);
    }

    public string Name => "interp";

    public DecodeCache Cache { get; }

    public EngineStatistics Statistics { get; } = new();

    public void FlushCode() => Cache.Clear();

    public StopReason Run(ulong budget)
    {
        HartState s = _s;
        ulong start = s.Executed;
        ulong end = start + budget;
        Statistics.Slices++;
        try
        {
            while (true)
            {
                if (_hart.Attention != 0)
                {
                    if ((_hart.Attention & Hart.AttentionStop) != 0)
                    {
                        return _hart.ConsumeStop();
                    }
                    _hart.TryTakeInterrupt();
                    continue;
                }
                ulong executed = s.Executed;
                if (executed >= end)
                {
                    return StopReason.BudgetExhausted;
                }
                ulong due = _events.NextDue;
                if (s.Cycle >= due)
                {
                    _events.RunDue(s.Cycle);
                    continue;
                }
                ulong n = Math.Min(end - executed, due - s.Cycle);
                if (RunChunk(n) == ChunkExit.Idle)
                {
                    return StopReason.Idle;
                }
            }
        }
        finally
        {
            Statistics.InstructionsInterpreted += (long)(s.Executed - start);
        }
    }

    /// <summary>Executes exactly one instruction (or takes one pending interrupt first); used by the other engines for exact budgets.</summary>
    public StopReason Step() => Run(1);

    private ChunkExit RunChunk(ulong n)
    {
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
                s.Cycle = cycle;
                if (!mmu.TranslateFetch(pc, out uint pa))
                {
                    goto Fault;
                }
                _pagePhysical = pa & 0xFFFFF000;
                page = Cache.GetPage(_pagePhysical);
                pageTag = pc & 0xFFFFF000;
            }
            ref Instruction i = ref page[(pc >> 2) & (DecodeCache.SlotsPerPage - 1)];
            if (i.Op == Opcode.Undecoded)
            {
                i = ref Cache.Fill(page, _pagePhysical | (pc & 0xFFF));
            }
            uint value;
            uint target;
            switch (i.Op)
            {
                case Opcode.Nop: pc += 4; cycle++; continue;
                case Opcode.Lui: x[i.Rd] = (uint)i.Imm; pc += 4; cycle++; continue;
                case Opcode.Auipc: x[i.Rd] = pc + (uint)i.Imm; pc += 4; cycle++; continue;
                case Opcode.Jal:
                    target = pc + (uint)i.Imm;
                    if ((target & 3) != 0) { goto Misaligned; }
                    x[i.Rd] = pc + 4;
                    x[0] = 0;
                    pc = target;
                    cycle++;
                    continue;
                case Opcode.Jalr:
                    target = (x[i.Rs1] + (uint)i.Imm) & ~1u;
                    if ((target & 3) != 0) { goto Misaligned; }
                    x[i.Rd] = pc + 4;
                    x[0] = 0;
                    pc = target;
                    cycle++;
                    continue;

                case Opcode.Beq: if (x[i.Rs1] == x[i.Rs2]) { goto Branch; } pc += 4; cycle++; continue;
                case Opcode.Bne: if (x[i.Rs1] != x[i.Rs2]) { goto Branch; } pc += 4; cycle++; continue;
                case Opcode.Blt: if ((int)x[i.Rs1] < (int)x[i.Rs2]) { goto Branch; } pc += 4; cycle++; continue;
                case Opcode.Bge: if ((int)x[i.Rs1] >= (int)x[i.Rs2]) { goto Branch; } pc += 4; cycle++; continue;
                case Opcode.Bltu: if (x[i.Rs1] < x[i.Rs2]) { goto Branch; } pc += 4; cycle++; continue;
                case Opcode.Bgeu: if (x[i.Rs1] >= x[i.Rs2]) { goto Branch; } pc += 4; cycle++; continue;

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
                    ChunkExit exit = Callout(i);
                    pc = s.Pc;
                    cycle = s.Cycle;
                    pageTag = 1;
                    if (exit != ChunkExit.Done)
                    {
                        return exit;
                    }
                    continue;
            }

        Branch:
            target = pc + (uint)i.Imm;
            if ((target & 3) != 0)
            {
                goto Misaligned;
            }
            pc = target;
            cycle++;
            continue;

        LoadDone:
            x[0] = 0;

        MemoryDone:
            pc += 4;
            cycle++;
            if (_hart.Attention != 0)
            {
                s.Cycle = cycle;
                s.Pc = pc;
                return ChunkExit.Attention;
            }
            continue;

        Misaligned:
            s.Cycle = cycle;
            s.Pc = pc;
            _hart.RaiseException(ExceptionCause.InstructionAddressMisaligned, target);
            goto Trapped;

        Fault:
            s.Pc = pc;
            _hart.RaiseException(mmu.FaultCause, mmu.FaultValue);

        Trapped:
            pc = s.Pc;
            pageTag = 1;
            s.Cycle = ++cycle;
            if (_hart.Attention != 0)
            {
                return ChunkExit.Attention;
            }
        }
        s.Cycle = cycle;
        s.Pc = pc;
        return ChunkExit.Done;
    }

    private uint _pagePhysical;

    /// <summary>Runs a system instruction through the hart's monitor routines; s.Pc and s.Cycle are current.</summary>
    private ChunkExit Callout(in Instruction i)
    {
        Statistics.Callouts++;
        SystemOutcome outcome = _hart.ExecuteSystem(i);
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
        return _hart.Attention != 0 ? ChunkExit.Attention : ChunkExit.Done;
    }
}
