using Hypervisor.Cpu;
using Hypervisor.Isa;

namespace Hypervisor.Fuzzing;

/// <summary>
/// Generates random, valid RV32IMA programs for the lockstep fuzzer: the same seed gives the same program.
/// </summary>
/// <remarks>
/// A program is a prologue (trap vector, PMP, the data-page register, random register values), a
/// body of random items and an epilogue that powers off through the test finisher. Items are
/// single instructions or small constructs whose control flow is correct by construction: forward
/// branches and jumps skip a nested segment, loops count a register their body never writes, so
/// every program terminates. Whatever traps (ECALL, EBREAK, illegal words, misaligned or faulting
/// accesses) lands in a handler at a fixed address that skips the instruction. One register points
/// at the data page for the whole program; no generated instruction writes it. Programs of the
/// system families (segments in S and U, delegation, Sv32) are described in ProgramGenerator.System.cs.
/// </remarks>
public sealed partial class ProgramGenerator
{
    /// <summary>The register the trap handler uses; no generated instruction writes it (programs may read it).</summary>
    /// <remarks>
    /// A reserved register rather than a save through mscratch keeps the handler to three or four
    /// callouts: every callout ends a translated block, and compiling a block costs far more than
    /// running one, so the handler's size sets much of the fuzzer's speed.
    /// </remarks>
    public const int HandlerRegister = 31;

    public ProgramGenerator(GeneratorOptions? options = null) => Options = options ?? GeneratorOptions.Default;

    public GeneratorOptions Options { get; }

    /// <summary>The program for <paramref name="seed"/>.</summary>
    public FuzzProgram Generate(int seed) => new Builder(seed, Options).Build();

    /// <summary>The seed of program number <paramref name="index"/> of a campaign (SplitMix64 of both).</summary>
    public static int ProgramSeed(int campaignSeed, long index)
    {
        ulong z = ((ulong)(uint)campaignSeed << 32 | (ulong)(uint)index) + 0x9E3779B97F4A7C15UL * (ulong)(index / 0x1_0000_0000L + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }

    /// <summary>
    /// The trap handler at <see cref="FuzzLayout.HandlerBase"/>: mepc += 4, MRET. With
    /// <paramref name="returnToMachine"/> it also sets mstatus.MPP = M, so that any trap in a U-mode
    /// segment (its closing ECALL, or an earlier fault) ends the segment and returns to M-mode. With
    /// <paramref name="interrupts"/> an interrupt clears mie (so each enabling takes at most one)
    /// and returns to the interrupted instruction.
    /// </summary>
    public static uint[] TrapHandler(bool returnToMachine, bool interrupts = false)
    {
        const int t = HandlerRegister;
        var p = new ProgramBuilder(FuzzLayout.HandlerBase);
        if (interrupts)
        {
            p.Emit(Opcode.Csrrs, t, 0, imm: CsrAddress.Mcause);
            p.Emit(Opcode.Bge, rs1: t, rs2: 0, imm: 12);              // an exception
            p.Emit(Opcode.Csrrw, 0, 0, imm: CsrAddress.Mie);          // an interrupt: mie = 0, back
            p.Emit(Opcode.Mret);
        }
        p.Emit(Opcode.Csrrs, t, 0, imm: CsrAddress.Mepc);
        p.Emit(Opcode.Addi, t, t, imm: 4);
        p.Emit(Opcode.Csrrw, 0, t, imm: CsrAddress.Mepc);
        if (returnToMachine)
        {
            p.Emit(Opcode.Lui, t, imm: 0x2000);
            p.Emit(Opcode.Addi, t, t, imm: -0x800);                   // t6 = 0x1800 = MPP
            p.Emit(Opcode.Csrrs, 0, t, imm: CsrAddress.Mstatus);
        }
        p.Emit(Opcode.Mret);
        return [.. p.Words];
    }

    /// <summary>Device registers the Devices family reads and writes (32-bit CLINT registers, byte UART registers).</summary>
    private static readonly (uint Address, int Size)[] DeviceRegisters =
    [
        (0x0200_0000, 4), (0x0200_4000, 4), (0x0200_4004, 4), (0x0200_BFF8, 4), (0x0200_BFFC, 4),
        (0x1000_0000, 1), (0x1000_0001, 1), (0x1000_0005, 1), (0x0C00_1000, 4), (0x0C00_0028, 4),
    ];

    private static readonly uint[] EdgeValues =
    [
        0, 1, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 0xFFFF, 0x8000, 0x7FF, 0x800, 0xFFFF_F800, 0x8000_0001, 2,
    ];

    private static readonly int[] EdgeImmediates = [0, 1, -1, 2047, -2048, 31, 32, 0x7F0];

    private static readonly Opcode[] RegisterOps =
        [Opcode.Add, Opcode.Sub, Opcode.Sll, Opcode.Slt, Opcode.Sltu, Opcode.Xor, Opcode.Srl, Opcode.Sra, Opcode.Or, Opcode.And];

    private static readonly Opcode[] ImmediateOps =
        [Opcode.Addi, Opcode.Slti, Opcode.Sltiu, Opcode.Xori, Opcode.Ori, Opcode.Andi, Opcode.Slli, Opcode.Srli, Opcode.Srai];

    /// <summary>I-type ops whose immediate field may hold any 12 bits (so the self-modifying item can add to it).</summary>
    private static readonly Opcode[] PlainImmediateOps =
        [Opcode.Addi, Opcode.Slti, Opcode.Sltiu, Opcode.Xori, Opcode.Ori, Opcode.Andi];

    private static readonly Opcode[] MulDivOps =
        [Opcode.Mul, Opcode.Mulh, Opcode.Mulhsu, Opcode.Mulhu, Opcode.Div, Opcode.Divu, Opcode.Rem, Opcode.Remu];

    private static readonly Opcode[] BranchOps = [Opcode.Beq, Opcode.Bne, Opcode.Blt, Opcode.Bge, Opcode.Bltu, Opcode.Bgeu];

    private static readonly (Opcode Op, int Size)[] LoadOps =
        [(Opcode.Lb, 1), (Opcode.Lbu, 1), (Opcode.Lh, 2), (Opcode.Lhu, 2), (Opcode.Lw, 4)];

    private static readonly (Opcode Op, int Size)[] StoreOps = [(Opcode.Sb, 1), (Opcode.Sh, 2), (Opcode.Sw, 4)];

    private static readonly Opcode[] AmoOps =
    [
        Opcode.AmoswapW, Opcode.AmoaddW, Opcode.AmoxorW, Opcode.AmoandW, Opcode.AmoorW,
        Opcode.AmominW, Opcode.AmomaxW, Opcode.AmominuW, Opcode.AmomaxuW,
    ];

    /// <summary>Addresses outside RAM and every device: accesses there raise access faults.</summary>
    private static readonly uint[] FaultingAddresses =
        [0x0000_0000, 0x0000_1000, 0x2000_0000, 0x4000_0000, 0x8001_0000, 0xFFFF_F000, 0x0200_0000 - 0x1000];

    private static readonly int[] CounterCsrs =
    [
        CsrAddress.Cycle, CsrAddress.Time, CsrAddress.Instret, CsrAddress.Mcycle, CsrAddress.Minstret, 0xC80, 0xC82, 0xB80, 0xB82,
    ];

    private enum Item
    {
        RegisterOp, ImmediateOp, UpperImmediate, Constant, MulDiv, Load, Store, PointerAccess,
        Branch, Jal, Jalr, Loop, Atomic, Trap, Fence, SelfModify, FaultingAccess, Counter, Segment,
        DeviceAccess, InterruptEnable, TimerArm, SoftwareInterrupt, WaitForTimer,
        CsrAccess, PmpWrite, DelegationWrite, SupervisorInterrupt, PteWrite, MappedAccess, AliasJump, SatpWrite, Sfence,
    }

    /// <summary>Builds one program; all randomness comes from one <see cref="Random"/> seeded with the program's seed.</summary>
    private sealed partial class Builder
    {
        private readonly int _seed;
        private readonly Random _r;
        private readonly GeneratorOptions _o;
        private readonly FuzzFeatures _f;
        private readonly List<uint> _w = [];
        private readonly List<int> _loopCounters = [];
        private readonly (Item Item, int Weight)[] _menu;
        private readonly int _totalWeight;
        private int _dataRegister;
        private uint _forbidden; // registers no instruction may write here: x-bit set
        private bool _interrupts;

        public Builder(int seed, GeneratorOptions options)
        {
            _seed = seed;
            _r = new Random(seed);
            _o = options;
            _f = options.Features;
            _menu = Menu(_f);
            _totalWeight = _menu.Sum(m => m.Weight);
        }

        private bool Has(FuzzFeatures f) => (_f & f) != 0;

        private static (Item, int)[] Menu(FuzzFeatures f)
        {
            var menu = new List<(Item, int)>();
            void Add(FuzzFeatures feature, Item item, int weight)
            {
                if ((f & feature) != 0)
                {
                    menu.Add((item, weight));
                }
            }
            Add(FuzzFeatures.Alu, Item.RegisterOp, 10);
            Add(FuzzFeatures.Alu, Item.ImmediateOp, 10);
            Add(FuzzFeatures.Alu, Item.UpperImmediate, 3);
            Add(FuzzFeatures.Alu, Item.Constant, 3);
            Add(FuzzFeatures.MulDiv, Item.MulDiv, 6);
            Add(FuzzFeatures.LoadStore, Item.Load, 8);
            Add(FuzzFeatures.LoadStore, Item.Store, 8);
            Add(FuzzFeatures.LoadStore, Item.PointerAccess, 2);
            Add(FuzzFeatures.Branches, Item.Branch, 5);
            Add(FuzzFeatures.Jumps, Item.Jal, 2);
            Add(FuzzFeatures.Jumps, Item.Jalr, 2);
            Add(FuzzFeatures.Loops, Item.Loop, 3);
            Add(FuzzFeatures.Atomics, Item.Atomic, 4);
            Add(FuzzFeatures.Traps, Item.Trap, 2);
            Add(FuzzFeatures.Fences, Item.Fence, 1);
            Add(FuzzFeatures.SelfModifying, Item.SelfModify, 1);
            Add(FuzzFeatures.FaultingAccess, Item.FaultingAccess, 1);
            Add(FuzzFeatures.Counters, Item.Counter, 2);
            Add(FuzzFeatures.UserMode, Item.Segment, 1);
            Add(FuzzFeatures.Devices, Item.DeviceAccess, 2);
            Add(FuzzFeatures.Interrupts, Item.InterruptEnable, 2);
            Add(FuzzFeatures.Interrupts, Item.TimerArm, 2);
            Add(FuzzFeatures.Interrupts, Item.SoftwareInterrupt, 1);
            Add(FuzzFeatures.Interrupts, Item.WaitForTimer, 1);
            AddSystemItems(f, menu);
            if (menu.Count == 0)
            {
                menu.Add((Item.ImmediateOp, 1)); // nothing enabled: still a valid program of ADDIs
            }
            return [.. menu];
        }

        public FuzzProgram Build()
        {
            byte[] data = new byte[FuzzLayout.DataSize];
            _r.NextBytes(data);
            _system = Has(FuzzFeatures.System) && _r.Next(Has(FuzzFeatures.Privileged | FuzzFeatures.Delegation | FuzzFeatures.Sv32) ? 2 : 4) == 0;
            _dataRegister = _system ? 1 + _r.Next(28) : 1 + _r.Next(30);
            _interrupts = Has(FuzzFeatures.Interrupts) && _r.Next(3) == 0;

            // Prologue: trap vector(s), PMP open to S and U, counters, data register, register values.
            Li(5, FuzzLayout.HandlerBase);
            Emit(Opcode.Csrrw, 0, 5, imm: CsrAddress.Mtvec);
            if (_system)
            {
                SystemPrologue();
            }
            Li(_dataRegister, FuzzLayout.DataPointer);
            _forbidden = 1u << _dataRegister | 1u << HandlerRegister;
            if (_system)
            {
                _forbidden |= 1u << SHandlerRegister | 1u << EscapeRegister;
                EscapeStub();           // x30: where a segment's ECALL or a fetch fault lands (here: the epilogue)
                if (_paging)
                {
                    PageTables();
                }
            }
            for (int i = _r.Next(3, 9); i > 0; i--)
            {
                Li(Dest(allowZero: false), Value()); // a few registers with values; the rest stay 0
            }

            int items = _r.Next(_o.MinItems, _o.MaxItems + 1);
            if (_o.Repeat > 1)
            {
                // The body in an outer loop, so that a translator with a threshold above 1 compiles
                // it on the second pass and runs it translated from then on.
                int counter = Dest(allowZero: false);
                Emit(Opcode.Addi, counter, 0, imm: _o.Repeat);
                _forbidden |= 1u << counter;
                _loopCounters.Add(counter);
                int body = Here;
                Segment(items, depth: 0);
                Emit(Opcode.Addi, counter, counter, imm: -1);
                Emit(Opcode.Bne, rs1: counter, rs2: 0, imm: (body - Here) * 4);
            }
            else
            {
                Segment(items, depth: 0);
            }

            // Epilogue: power off (pass) through the finisher; spin if that ever fails.
            PatchEscapes();
            Li(5, 0x0010_0000);
            Li(6, 0x5555);
            Emit(Opcode.Sw, rs1: 5, rs2: 6);
            Emit(Opcode.Jal, 0, imm: 0);
            if (_w.Count > FuzzLayout.MaxCodeWords)
            {
                throw new InvalidOperationException($"seed {_seed}: program of {_w.Count} words is too long; lower MaxItems or MaxDepth");
            }
            uint[] handler = _system ? SystemTrapHandler() : TrapHandler(returnToMachine: false, _interrupts);
            return new FuzzProgram(_seed, [.. _w], handler, data, _dataRegister);
        }

        private int Here => _w.Count;

        /// <summary>Words a body may grow to: room is left for the epilogue and for a self-check appended later.</summary>
        private const int CodeBudget = FuzzLayout.MaxCodeWords - 800;

        private void Emit(Opcode op, int rd = 0, int rs1 = 0, int rs2 = 0, int imm = 0) => _w.Add(Encoder.Encode(op, rd, rs1, rs2, imm));

        private void Li(int rd, uint value)
        {
            (int hi, int lo) = Encoder.SplitConstant(value);
            Emit(Opcode.Lui, rd, imm: hi);
            Emit(Opcode.Addi, rd, rd, imm: lo);
        }

        /// <summary>A register an instruction may write: never the data register or a live loop counter; rarely x0.</summary>
        private int Dest(bool allowZero = true)
        {
            if (allowZero && _r.Next(25) == 0)
            {
                return 0;
            }
            while (true)
            {
                int reg = 1 + _r.Next(31);
                if (((_forbidden >> reg) & 1) == 0)
                {
                    return reg;
                }
            }
        }

        private int Source() => _r.Next(32);

        private uint Value() => _r.Next(4) switch
        {
            0 => EdgeValues[_r.Next(EdgeValues.Length)],
            1 => (uint)_r.Next(-16, 17),
            _ => (uint)_r.NextInt64(0, 1L << 32),
        };

        private int Imm12() => _r.Next(5) == 0 ? EdgeImmediates[_r.Next(EdgeImmediates.Length)] : _r.Next(-2048, 2048);

        private T Pick<T>(T[] options) => options[_r.Next(options.Length)];

        private void Segment(int items, int depth)
        {
            for (int i = 0; i < items && Here < CodeBudget; i++)
            {
                GenerateItem(depth);
            }
        }

        private void GenerateItem(int depth)
        {
            int roll = _r.Next(_totalWeight);
            Item item = _menu[^1].Item;
            foreach ((Item candidate, int weight) in _menu)
            {
                if (roll < weight)
                {
                    item = candidate;
                    break;
                }
                roll -= weight;
            }
            bool nest = depth < _o.MaxDepth;
            switch (item)
            {
                case Item.RegisterOp: Emit(Pick(RegisterOps), Dest(), Source(), Source()); break;
                case Item.ImmediateOp: ImmediateOp(Dest()); break;
                case Item.UpperImmediate: Emit(_r.Next(2) == 0 ? Opcode.Lui : Opcode.Auipc, Dest(), imm: (int)(Value() & 0xFFFFF000)); break;
                case Item.Constant: Li(Dest(allowZero: false), Value()); break;
                case Item.MulDiv: MulDiv(); break;
                case Item.Load: Load(_dataRegister, 0x800); break;
                case Item.Store: Store(_dataRegister, 0x800); break;
                case Item.PointerAccess: PointerAccess(); break;
                case Item.Branch when nest: Branch(depth); break;
                case Item.Jal when nest: Jal(depth); break;
                case Item.Jalr when nest: Jalr(depth); break;
                case Item.Loop when nest: Loop(depth); break;
                case Item.Atomic: Atomic(); break;
                case Item.Trap: Trap(); break;
                case Item.Fence: Fence(); break;
                case Item.SelfModify: SelfModify(); break;
                case Item.FaultingAccess: FaultingAccess(); break;
                case Item.Counter: Counter(); break;
                case Item.Segment when nest && _system && _mode != Privilege.User: SegmentItem(depth); break;
                case Item.DeviceAccess: DeviceAccess(); break;
                case Item.InterruptEnable when _interrupts: InterruptEnable(); break;
                case Item.TimerArm when _interrupts: TimerArm(); break;
                case Item.SoftwareInterrupt when _interrupts: SoftwareInterrupt(); break;
                case Item.WaitForTimer when _interrupts && _mode == Privilege.Machine: WaitForTimer(); break;
                default:
                    if (!SystemItem(item, depth))
                    {
                        ImmediateOp(Dest()); // a construct that may not nest here
                    }
                    break;
            }
        }

        private void ImmediateOp(int rd)
        {
            Opcode op = Pick(ImmediateOps);
            Emit(op, rd, Source(), imm: op is Opcode.Slli or Opcode.Srli or Opcode.Srai ? _r.Next(32) : Imm12());
        }

        private void MulDiv()
        {
            int rs1 = Source(), rs2 = Source();
            if (_r.Next(2) == 0)
            {
                rs1 = Dest(allowZero: false);
                Li(rs1, EdgeValues[_r.Next(4)]);
            }
            if (_r.Next(2) == 0)
            {
                rs2 = Dest(allowZero: false);
                Li(rs2, EdgeValues[_r.Next(4)]);
            }
            Emit(Pick(MulDivOps), Dest(), rs1, rs2);
        }

        /// <summary>
        /// An immediate that, added to a register holding data page + <paramref name="bias"/>, addresses
        /// <paramref name="size"/> bytes inside the page; aligned seven times in eight.
        /// </summary>
        private int PageOffset(int size, int bias)
        {
            int low = Math.Max(0, bias - 2048), high = Math.Min(FuzzLayout.DataSize - size, bias + 2047);
            int offset = _r.Next(low, high + 1);
            if (_r.Next(8) != 0 && (offset & ~(size - 1)) >= low)
            {
                offset &= ~(size - 1);
            }
            return offset - bias;
        }

        private void Load(int baseRegister, int bias)
        {
            (Opcode op, int size) = Pick(LoadOps);
            Emit(op, Dest(), baseRegister, imm: PageOffset(size, bias));
        }

        private void Store(int baseRegister, int bias)
        {
            (Opcode op, int size) = Pick(StoreOps);
            Emit(op, rs1: baseRegister, rs2: Source(), imm: PageOffset(size, bias));
        }

        /// <summary>A pointer into the data page in another register, then an access through it.</summary>
        private void PointerAccess()
        {
            int p = Dest(allowZero: false);
            int delta = _r.Next(-2048, 2048);
            Emit(Opcode.Addi, p, _dataRegister, imm: delta);
            if (_r.Next(2) == 0)
            {
                Load(p, 0x800 + delta);
            }
            else
            {
                Store(p, 0x800 + delta);
            }
        }

        /// <summary>A forward branch over a nested segment; rarely to a misaligned target (a trap when taken).</summary>
        private void Branch(int depth)
        {
            int at = Here;
            _w.Add(0);
            Segment(1 + _r.Next(4), depth + 1);
            int offset = (Here - at) * 4 + (_r.Next(16) == 0 ? 2 : 0);
            int rs1 = Source();
            int rs2 = _r.Next(5) == 0 ? rs1 : Source();
            _w[at] = Encoder.Encode(Pick(BranchOps), rs1: rs1, rs2: rs2, imm: offset);
        }

        private void Jal(int depth)
        {
            int at = Here;
            _w.Add(0);
            Segment(1 + _r.Next(3), depth + 1);
            _w[at] = Encoder.Encode(Opcode.Jal, Dest(), imm: (Here - at) * 4);
        }

        /// <summary>AUIPC + JALR over a nested segment; bit 0 of the target is sometimes set (ignored), rarely bit 1 (a trap).</summary>
        private void Jalr(int depth)
        {
            int t = Dest(allowZero: false);
            int at = Here;
            Emit(Opcode.Auipc, t, imm: 0);
            _w.Add(0);
            Segment(1 + _r.Next(3), depth + 1);
            int offset = (Here - at) * 4 + _r.Next(8) switch { 0 => 1, 1 => 3, 2 when _r.Next(4) == 0 => 2, _ => 0 };
            _w[at + 1] = Encoder.Encode(Opcode.Jalr, Dest(), t, imm: offset);
        }

        /// <summary>li c, n; body; addi c, c, -1; bne c, x0, body — the body never writes c.</summary>
        private void Loop(int depth)
        {
            int counter = Dest(allowZero: false);
            Emit(Opcode.Addi, counter, 0, imm: 1 + _r.Next(5));
            uint saved = _forbidden;
            _forbidden |= 1u << counter;
            _loopCounters.Add(counter);
            int body = Here;
            Segment(1 + _r.Next(5), depth + 1);
            _loopCounters.RemoveAt(_loopCounters.Count - 1);
            _forbidden = saved;
            Emit(Opcode.Addi, counter, counter, imm: -1);
            Emit(Opcode.Bne, rs1: counter, rs2: 0, imm: (body - Here) * 4);
        }

        private void Atomic()
        {
            int p = Dest(allowZero: false);
            int offset = _r.Next(FuzzLayout.DataSize / 4) * 4 - 0x800;
            if (_r.Next(16) == 0)
            {
                offset += 1 + _r.Next(3); // misaligned: a trap
            }
            Emit(Opcode.Addi, p, _dataRegister, imm: Math.Min(offset, 2047));
            uint ordering = (uint)_r.Next(4) << 25;
            if (_r.Next(10) < 7)
            {
                _w.Add(Encoder.Encode(Pick(AmoOps), Dest(), p, Source()) | ordering);
                return;
            }
            uint saved = _forbidden;
            _forbidden |= 1u << p;
            if (_r.Next(8) != 0)
            {
                _w.Add(Encoder.Encode(Opcode.LrW, Dest(), p) | ordering);
            }
            for (int i = _r.Next(3); i > 0; i--)
            {
                switch (_r.Next(3))
                {
                    case 0: Store(_dataRegister, 0x800); break;
                    case 1: Load(_dataRegister, 0x800); break;
                    default: Emit(Pick(RegisterOps), Dest(), Source(), Source()); break;
                }
            }
            _forbidden = saved;
            int target = _r.Next(5) == 0 ? _dataRegister : p; // sometimes an SC to another address
            _w.Add(Encoder.Encode(Opcode.ScW, Dest(), target, Source()) | ordering);
        }

        private void Trap()
        {
            switch (_r.Next(_mode != Privilege.Machine ? 2 : 3))
            {
                case 0: _w.Add(IllegalWord()); break;
                case 1: Emit(Opcode.Ebreak); break;
                default: Emit(Opcode.Ecall); break; // in U-mode an ECALL would return to M: left out there
            }
        }

        private uint IllegalWord()
        {
            switch (_r.Next(4))
            {
                case 0: return 0;
                case 1: return 0xFFFF_FFFF;
                default:
                    for (int i = 0; i < 32; i++)
                    {
                        uint w = (uint)_r.NextInt64(0, 1L << 32);
                        if (Decoder.Decode(w).Op == Opcode.Illegal)
                        {
                            return w;
                        }
                    }
                    return 0;
            }
        }

        private void Fence()
        {
            if (_r.Next(2) == 0)
            {
                Emit(Opcode.FenceI);
            }
            else
            {
                _w.Add(0x0000_000Fu | ((uint)_r.Next(16) << 24) | ((uint)_r.Next(16) << 20));
            }
        }

        /// <summary>
        /// Stores a new I-type instruction over a later one of the same item, then runs it: after
        /// FENCE.I, after a jump (the store ends up in another block), or right away. In a loop the
        /// new immediate includes the loop counter, so every iteration runs different code.
        /// </summary>
        private void SelfModify()
        {
            uint saved = _forbidden;
            int t = Dest(allowZero: false);
            _forbidden |= 1u << t;
            int v = Dest(allowZero: false);
            _forbidden |= 1u << v;
            int at = Here;
            Emit(Opcode.Auipc, t, imm: 0);
            uint word = Encoder.Encode(Pick(PlainImmediateOps), Dest(), Source(), imm: Imm12());
            Li(v, word);
            if (_loopCounters.Count > 0 && _r.Next(2) == 0)
            {
                int w = Dest(allowZero: false);
                Emit(Opcode.Slli, w, _loopCounters[^1], imm: 20);
                Emit(Opcode.Add, v, v, w);
            }
            int store = Here;
            _w.Add(0);
            switch (_r.Next(6))
            {
                case < 4: Emit(Opcode.FenceI); break;
                case 4: Emit(Opcode.Jal, 0, imm: 4); break;
                default: break;
            }
            int target = Here;
            _forbidden = saved;
            ImmediateOp(Dest());
            _w[store] = Encoder.Encode(Opcode.Sw, rs1: t, rs2: v, imm: (target - at) * 4);
        }

        private void FaultingAccess()
        {
            int p = Dest(allowZero: false);
            Li(p, Pick(FaultingAddresses));
            if (_r.Next(2) == 0)
            {
                (Opcode op, _) = Pick(LoadOps);
                Emit(op, Dest(), p, imm: _r.Next(16));
            }
            else
            {
                (Opcode op, _) = Pick(StoreOps);
                Emit(op, rs1: p, rs2: Source(), imm: _r.Next(16));
            }
        }

        private void Counter()
        {
            switch (_r.Next(8))
            {
                case < 4: Emit(Opcode.Csrrs, Dest(), 0, imm: Pick(CounterCsrs)); break;
                case 4: Emit(Opcode.Csrrw, Dest(), Source(), imm: CsrAddress.Mscratch); break;
                case 5: Emit(Opcode.Csrrs, Dest(), Source(), imm: CsrAddress.Sscratch); break;
                case 6: Emit(Opcode.Csrrw, Dest(), Source(), imm: _r.Next(2) == 0 ? CsrAddress.Minstret : CsrAddress.Mcycle); break;
                default: Emit(Opcode.Csrrs, Dest(), 0, imm: _r.Next(0x1000)); break; // any CSR number, read only
            }
        }

        /// <summary>A load from or a store to a device register (mtime, mtimecmp, msip, UART, PLIC).</summary>
        private void DeviceAccess()
        {
            (uint address, int size) = Pick(DeviceRegisters);
            int p = Dest(allowZero: false);
            Li(p, address);
            bool store = _r.Next(3) == 0;
            if (address == 0x0200_0000 && !_interrupts)
            {
                store = false; // raising msip is the interrupt family's business
            }
            if (store)
            {
                int v = Source();
                if (address is 0x0200_4000 or 0x0200_4004 or 0x0200_BFF8 or 0x0200_BFFC && !_interrupts)
                {
                    v = Dest(allowZero: false);
                    Li(v, 0xFFFF_FFFF); // keep the timer disarmed: mtimecmp all ones (or mtime far below it)
                    if (address is 0x0200_BFF8 or 0x0200_BFFC)
                    {
                        v = 0;
                    }
                }
                Emit(size == 1 ? Opcode.Sb : Opcode.Sw, rs1: p, rs2: v);
            }
            else
            {
                Emit(size == 1 ? Pick([Opcode.Lbu, Opcode.Lb]) : Opcode.Lw, Dest(), p);
            }
        }

        /// <summary>Sets MSIE/MTIE (and MEIE) in mie, or MIE in mstatus.</summary>
        private void InterruptEnable()
        {
            if (_r.Next(2) == 0)
            {
                Emit(Opcode.Csrrsi, 0, 8, imm: CsrAddress.Mstatus);       // mstatus.MIE
                return;
            }
            int p = Dest(allowZero: false);
            Li(p, Pick([0x888u, 0x80u, 0x8u, 0x88u]));
            Emit(Opcode.Csrrs, 0, p, imm: CsrAddress.Mie);
        }

        /// <summary>mtimecmp = mtime + a few ticks: a timer interrupt some tens of instructions later.</summary>
        private void TimerArm()
        {
            int p = Dest(allowZero: false);
            _forbidden |= 1u << p;
            int t = Dest(allowZero: false);
            _forbidden &= ~(1u << p);
            Li(p, 0x0200_BFF8);
            Emit(Opcode.Lw, t, p, imm: 0);                               // mtime (low word)
            Emit(Opcode.Addi, t, t, imm: _r.Next(0, 12));
            Li(p, 0x0200_4000);
            Emit(Opcode.Sw, rs1: p, rs2: 0, imm: 4);                     // mtimecmp hi = 0
            Emit(Opcode.Sw, rs1: p, rs2: t, imm: 0);                     // mtimecmp lo = mtime + delta
        }

        /// <summary>
        /// WFI until a timer armed a few ticks ahead is due: mstatus.MIE off (so the interrupt cannot
        /// be taken between arming and WFI and leave nothing to wake it), MTIE on, WFI; then MIE
        /// back on half the time, so the pending timer is taken right after.
        /// </summary>
        private void WaitForTimer()
        {
            Emit(Opcode.Csrrci, 0, 8, imm: CsrAddress.Mstatus);
            TimerArm();
            int p = Dest(allowZero: false);
            Li(p, InterruptBits.Mtip);
            Emit(Opcode.Csrrs, 0, p, imm: CsrAddress.Mie);
            Emit(Opcode.Wfi);
            if (_r.Next(2) == 0)
            {
                Emit(Opcode.Csrrsi, 0, 8, imm: CsrAddress.Mstatus);
            }
        }

        /// <summary>msip = 1 (or 0).</summary>
        private void SoftwareInterrupt()
        {
            int p = Dest(allowZero: false);
            Li(p, 0x0200_0000);
            int v = 0;
            if (_r.Next(4) != 0)
            {
                v = Dest(allowZero: false);
                Emit(Opcode.Addi, v, 0, imm: 1);
            }
            Emit(Opcode.Sw, rs1: p, rs2: v);
        }
    }
}
