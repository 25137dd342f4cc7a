using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;
using Hypervisor.Cpu;
using Hypervisor.Isa;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Translation;

/// <summary>
/// Compiles one guest block (a region of code, see <see cref="BlockDecoder"/>) into a
/// <see cref="DynamicMethod"/> with <see cref="ILGenerator"/>; the .NET JIT turns it into native code.
/// </summary>
/// <remarks>
/// Shape of the emitted method, <c>int Block(TranslationContext ctx)</c>:
/// <list type="bullet">
/// <item>The guest registers the block uses are loaded into IL locals through a byref to the register
/// file (no range checks to compile); x0 is the constant 0 and writes to it vanish.</item>
/// <item>Each instruction has a label; branches and jumps to instructions of the block are IL branches,
/// so loops run inside the method. A backward branch first checks that another pass of the whole
/// block still fits before the chunk's cycle limit, so a block never runs past it (exact budgets).</item>
/// <item>Executed instructions are counted in a local, added to at each branch (a compile-time offset
/// covers the straight-line code in between), so every exit knows its exact cycle.</item>
/// <item>Memory accesses inline the MMU's TLB fast path; a miss leaves the block before the access,
/// which the dispatcher runs on the interpreter (so no call sits inside the block's code).</item>
/// <item>Every exit goes through one shared epilogue that writes back the registers the block
/// writes, stores pc and cycle, and returns a static-exit index or a <see cref="BlockExit"/> code. A
/// fault exits with the exact pc of the faulting instruction, the earlier ones retired (PC synchronization).</item>
/// </list>
/// The per-instruction emitters live in the other parts of this class, by group.
/// </remarks>
internal sealed partial class BlockCompiler
{
    private static readonly FieldInfo FrameContext = typeof(BlockFrame).GetField(nameof(BlockFrame.Context))!;
    private static readonly FieldInfo CtxState = typeof(BlockFrame).GetField(nameof(BlockFrame.State))!;
    private static readonly FieldInfo CtxRegisters = typeof(BlockFrame).GetField(nameof(BlockFrame.Registers))!;
    private static readonly FieldInfo CtxMmu = typeof(BlockFrame).GetField(nameof(BlockFrame.Mmu))!;
    private static readonly FieldInfo CtxCycleLimit = typeof(TranslationContext).GetField(nameof(TranslationContext.CycleLimit))!;
    private static readonly MethodInfo DelegateInvoke = typeof(Translation.BlockCode).GetMethod("Invoke")!;
    private static readonly FieldInfo StatePc = typeof(HartState).GetField(nameof(HartState.Pc))!;
    private static readonly FieldInfo StateCycle = typeof(HartState).GetField(nameof(HartState.Cycle))!;
    private static readonly FieldInfo MmuLoadSetAddress = typeof(Mmu).GetField(nameof(Mmu.LoadSetAddress), BindingFlags.Instance | BindingFlags.NonPublic)!;
    private static readonly FieldInfo MmuStoreSetAddress = typeof(Mmu).GetField(nameof(Mmu.StoreSetAddress), BindingFlags.Instance | BindingFlags.NonPublic)!;
    private static readonly FieldInfo EntryTag = typeof(TlbEntry).GetField(nameof(TlbEntry.Tag))!;
    private static readonly FieldInfo EntryAddend = typeof(TlbEntry).GetField(nameof(TlbEntry.Addend))!;
    private static readonly MethodInfo RegisterData = typeof(MemoryMarshal)
        .GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Single(m => m.Name == nameof(MemoryMarshal.GetArrayDataReference) && m.IsGenericMethodDefinition)
        .MakeGenericMethod(typeof(uint));
    private static readonly MethodInfo RuntimeMisaligned = typeof(BlockRuntime).GetMethod(nameof(BlockRuntime.Misaligned))!;
    private static readonly MethodInfo RuntimeCallout = typeof(BlockRuntime).GetMethod(nameof(BlockRuntime.Callout))!;
    private static readonly FieldInfo FrameCallouts = typeof(BlockFrame).GetField(nameof(BlockFrame.Callouts))!;
    private static readonly MethodInfo RuntimeCalloutInBlock = typeof(BlockRuntime).GetMethod(nameof(BlockRuntime.CalloutInBlock))!;
    private static readonly MethodInfo RuntimeNext = typeof(BlockRuntime).GetMethod(nameof(BlockRuntime.Next))!;

    // An exit kind beyond the BlockExit codes, handled by the shared epilogue.
    private const int KindMisaligned = -4;

    private readonly ILGenerator _il;
    private readonly uint _entryPc;
    private readonly IReadOnlyList<TraceInstruction> _code;
    private readonly Dictionary<uint, int> _indexOf = [];
    private readonly Label[] _labels;
    private readonly bool[] _isJoin;
    private readonly List<uint> _exitTargets = [];
    private readonly List<int> _returnPoints = [];
    private readonly List<Instruction> _callouts = [];
    private LocalBuilder? _loopLimit;
    private readonly LocalBuilder?[] _reg = new LocalBuilder?[32];
    private readonly uint _used;
    private readonly uint _written;
    private readonly LocalBuilder _xs;
    private readonly LocalBuilder _state;
    private readonly LocalBuilder _base;
    private readonly LocalBuilder _count;
    private readonly LocalBuilder _exitPc;
    private readonly LocalBuilder _exitCount;
    private readonly LocalBuilder _exitKind;
    private readonly LocalBuilder _target;
    private LocalBuilder? _loadSet;
    private LocalBuilder? _storeSet;
    private LocalBuilder? _va;
    private LocalBuilder? _entry;
    private readonly Label _epilogue;
    private readonly List<(Label Label, uint ExitPc, int CountOffset, int Kind)> _stubs = [];

    /// <summary>Instructions executed since the count local was last brought up to date, on the path being emitted.</summary>
    private int _offset;

    /// <summary>Emit profiling: every branch and jump records its edge in the VM's <see cref="Profiling.ControlFlowProfile"/>.</summary>
    private bool _instrumented;

    private static readonly FieldInfo FrameProfile = typeof(BlockFrame).GetField(nameof(BlockFrame.Profile))!;
    private static readonly MethodInfo ProfileRecord = typeof(Profiling.ControlFlowProfile).GetMethod(nameof(Profiling.ControlFlowProfile.Record))!;

    private static readonly FieldInfo ProfileCounters = typeof(Profiling.ControlFlowProfile).GetField(nameof(Profiling.ControlFlowProfile.Counters))!;

    /// <summary>Highest edge slot the compiled code counts (VMs grow their counter arrays to it before running the code).</summary>
    private int _maxEdgeSlot = -1;

    /// <summary>
    /// Counts the edge from → to: a static edge is one increment of its slot in the VM's counter
    /// array; an indirect jump (<paramref name="to"/> null: the target local) calls Record.
    /// </summary>
    private void EmitRecordEdge(uint from, uint? to)
    {
        if (!_instrumented)
        {
            return;
        }
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldfld, FrameProfile);
        if (to is uint t)
        {
            int slot = Profiling.EdgeSlots.SlotOf(from, t);
            _maxEdgeSlot = Math.Max(_maxEdgeSlot, slot);
            _il.Emit(OpCodes.Ldfld, ProfileCounters);
            EmitInt(slot);
            _il.Emit(OpCodes.Ldelema, typeof(long));
            _il.Emit(OpCodes.Dup);
            _il.Emit(OpCodes.Ldind_I8);
            _il.Emit(OpCodes.Ldc_I4_1);
            _il.Emit(OpCodes.Conv_I8);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Stind_I8);
            return;
        }
        EmitUInt(from);
        _il.Emit(OpCodes.Ldloc, _target);
        _il.Emit(OpCodes.Callvirt, ProfileRecord);
    }

    private BlockCompiler(DynamicMethod method, uint entryPc, IReadOnlyList<TraceInstruction> code)
    {
        _il = method.GetILGenerator(256 + 96 * code.Count);
        _entryPc = entryPc;
        _code = code;
        _labels = new Label[code.Count];
        _isJoin = new bool[code.Count];
        for (int k = 0; k < code.Count; k++)
        {
            _indexOf[code[k].Pc] = k;
            _labels[k] = _il.DefineLabel();
        }
        foreach ((uint pc, Instruction i) in code)
        {
            if (i.Op is Opcode.Jal or (>= Opcode.Beq and <= Opcode.Bgeu) && _indexOf.TryGetValue(pc + (uint)i.Imm, out int t))
            {
                _isJoin[t] = true;
            }
        }
        _isJoin[_indexOf[entryPc]] = true; // the prologue enters here
        foreach ((uint pc, Instruction i) in code)
        {
            if (i.Op == Opcode.Jal && i.Rd != 0 && _indexOf.TryGetValue(pc + 4, out int r) && _returnPoints.Count < MaxReturnPoints)
            {
                _returnPoints.Add(r); // where the return of a call inside the region comes back
            }
        }
        (_used, _written) = RegisterUse(code);
        _xs = _il.DeclareLocal(typeof(uint).MakeByRefType());
        _state = _il.DeclareLocal(typeof(HartState));
        _base = _il.DeclareLocal(typeof(ulong));
        _count = _il.DeclareLocal(typeof(long));
        _exitPc = _il.DeclareLocal(typeof(uint));
        _exitCount = _il.DeclareLocal(typeof(long));
        _exitKind = _il.DeclareLocal(typeof(int));
        _target = _il.DeclareLocal(typeof(uint));
        for (int r = 1; r < 32; r++)
        {
            if ((_used & (1u << r)) != 0)
            {
                _reg[r] = _il.DeclareLocal(typeof(uint));
            }
        }
        _epilogue = _il.DefineLabel();
    }

    /// <summary>Compiles a decoded block (the region starting at <paramref name="entryPc"/>) into a dynamic method; emission time goes to <paramref name="statistics"/>.</summary>
    public static CompiledRegion Compile(uint entryPc, IReadOnlyList<TraceInstruction> code, TranslationCacheStatistics statistics, bool instrumented = false)
    {
        var method = new DynamicMethod($"tb_{entryPc:x8}", typeof(int), [typeof(BlockFrame), typeof(ulong), typeof(int)], restrictedSkipVisibility: true)
        {
            InitLocals = false, // every local is written before it is read: no zeroing in the prologue
        };
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var compiler = new BlockCompiler(method, entryPc, code) { _instrumented = instrumented };
        compiler.Emit();
        long emitTicks = System.Diagnostics.Stopwatch.GetTimestamp() - t0;
        statistics.EmitTicks += emitTicks;
        statistics.IlBytes += compiler._il.ILOffset;
        return new CompiledRegion(method, code.Count, [.. compiler._callouts], code[0].Pc & 0xFFF, (code[^1].Pc & 0xFFF) + 4, compiler._exitTargets, compiler._il.ILOffset)
        {
            EmitTicks = emitTicks,
            MaxEdgeSlot = compiler._maxEdgeSlot,
        };
    }

    /// <summary>Binds a compiled region to a VM: the block object and its delegate (the first binding runs the JIT).</summary>
    public static TranslatedBlock Instantiate(CompiledRegion region, BlockKey key, TranslationContext context)
    {
        uint physicalPage = key.PhysicalPc & ~0xFFFu;
        var block = new TranslatedBlock(key, region.Length, physicalPage + region.PageLow, physicalPage + region.PageHigh, region.ExitTargets);
        if (region.MaxEdgeSlot >= 0)
        {
            context.Profile?.EnsureSlot(region.MaxEdgeSlot);
        }
        block.Code = region.Method.CreateDelegate<BlockCode>(new BlockFrame(context, block, region.Callouts));
        return block;
    }

    private static (uint Used, uint Written) RegisterUse(IReadOnlyList<TraceInstruction> code)
    {
        uint used = 0, written = 0;
        foreach ((_, Instruction i) in code)
        {
            if (IsCallout(i.Op))
            {
                continue; // callouts read and write the register file in memory
            }
            switch (i.Op)
            {
                case Opcode.Nop:
                case Opcode.Fence:
                    break;
                case Opcode.Lui:
                case Opcode.Auipc:
                case Opcode.Jal:
                    written |= 1u << i.Rd;
                    break;
                case >= Opcode.Beq and <= Opcode.Bgeu:
                case >= Opcode.Sb and <= Opcode.Sw:
                    used |= (1u << i.Rs1) | (1u << i.Rs2);
                    break;
                case Opcode.Jalr:
                case >= Opcode.Lb and <= Opcode.Lhu:
                case >= Opcode.Addi and <= Opcode.Srai:
                    used |= 1u << i.Rs1;
                    written |= 1u << i.Rd;
                    break;
                default:
                    used |= (1u << i.Rs1) | (1u << i.Rs2);
                    written |= 1u << i.Rd;
                    break;
            }
        }
        written &= ~1u;
        used = (used | written) & ~1u;
        return (used, written);
    }

    /// <summary>Instructions emulated by a monitor routine: they end a path and run through <see cref="BlockRuntime.Callout"/>.</summary>
    public static bool IsCallout(Opcode op) =>
        OpcodeInfo.IsSystem(op) || op is (>= Opcode.LrW and <= Opcode.AmomaxuW) or Opcode.Illegal or Opcode.Undecoded;

    /// <summary>True when execution never continues to pc + 4 after <paramref name="i"/> inside the block.</summary>
    private static bool NeverFallsThrough(in Instruction i) => i.Op is Opcode.Jal or Opcode.Jalr || (IsCallout(i.Op) && !BlockRuntime.MayCarryOn(i.Op));

    private void Emit()
    {
        EmitPrologue();
        int entry = _indexOf[_entryPc];
        if (entry != 0)
        {
            _il.Emit(OpCodes.Br, _labels[entry]); // code below the entry point came in through backward branches
        }
        bool reachable = true; // can the previous instruction fall through into this one?
        for (int k = 0; k < _code.Count; k++)
        {
            (uint pc, Instruction i) = _code[k];
            bool adjacent = k > 0 && _code[k - 1].Pc + 4 == pc;
            if (!(reachable && adjacent))
            {
                _offset = 0; // reached only by branches, which bring the count up to date
            }
            else if (_isJoin[k])
            {
                Materialize();
            }
            _il.MarkLabel(_labels[k]);
            switch (i.Op)
            {
                case >= Opcode.Beq and <= Opcode.Bgeu:
                    EmitBranch(i, pc, k);
                    break;
                case Opcode.Jal:
                    EmitJal(i, pc, k);
                    break;
                case Opcode.Jalr:
                    EmitJalr(i, pc, k);
                    break;
                default:
                    if (IsCallout(i.Op))
                    {
                        EmitCallout(i, pc);
                    }
                    else
                    {
                        EmitInstruction(i, pc);
                    }
                    break;
            }
            reachable = !NeverFallsThrough(i);
            if (reachable && (k + 1 == _code.Count || _code[k + 1].Pc != pc + 4))
            {
                EmitExit(AddExit(pc + 4), pc + 4, 0); // the next instruction is not in the block
                reachable = false;
            }
        }
        EmitStubsAndEpilogue();
    }

    private void EmitPrologue()
    {
        bool needsMemory = false;
        foreach (TraceInstruction t in _code)
        {
            needsMemory |= t.Instruction.Op is >= Opcode.Lb and <= Opcode.Sw;
        }
        // A byref to x0, and plain loads and stores at offsets from it: array element accesses
        // (ldelem/stelem, a range check each) cost the JIT three times as much to compile, and
        // compile time is most of what a block costs. The register file always holds 32 registers.
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldfld, CtxRegisters);
        _il.Emit(OpCodes.Call, RegisterData);
        _il.Emit(OpCodes.Stloc, _xs);
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldfld, CtxState);
        _il.Emit(OpCodes.Stloc, _state);
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Stloc, _base);
        _il.Emit(OpCodes.Ldc_I4_0);
        _il.Emit(OpCodes.Conv_I8);
        _il.Emit(OpCodes.Stloc, _count);
        if (HasLoop())
        {
            // count > loopLimit: another pass of the whole block would not fit before the chunk's
            // cycle limit. Computed once, so a loop's back edge compares two registers instead of
            // reading the limit from memory (the JIT cannot hoist that load past guest stores).
            _loopLimit = _il.DeclareLocal(typeof(long));
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldfld, FrameContext);
            _il.Emit(OpCodes.Ldfld, CtxCycleLimit);
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Sub);
            _il.Emit(OpCodes.Ldc_I4, _code.Count);
            _il.Emit(OpCodes.Conv_I8);
            _il.Emit(OpCodes.Sub);
            _il.Emit(OpCodes.Stloc, _loopLimit);
        }
        for (int r = 31; r >= 1; r--)
        {
            if (_reg[r] is LocalBuilder local)
            {
                _il.Emit(OpCodes.Ldloc, _xs);
                EmitInt(4 * r);
                _il.Emit(OpCodes.Add);
                _il.Emit(OpCodes.Ldind_U4);
                _il.Emit(OpCodes.Stloc, local);
            }
        }
        if (needsMemory)
        {
            // The first entry of the load and store TLB sets of the current mode, as plain
            // pointers (the TLB is pinned): no bounds checks, and nothing the GC must track.
            _loadSet = _il.DeclareLocal(typeof(nint));
            _storeSet = _il.DeclareLocal(typeof(nint));
            _va = _il.DeclareLocal(typeof(uint));
            _entry = _il.DeclareLocal(typeof(nint));
            foreach ((LocalBuilder set, FieldInfo setAddress) in new[] { (_loadSet, MmuLoadSetAddress), (_storeSet, MmuStoreSetAddress) })
            {
                _il.Emit(OpCodes.Ldarg_0);
                _il.Emit(OpCodes.Ldfld, CtxMmu);
                _il.Emit(OpCodes.Ldfld, setAddress);
                _il.Emit(OpCodes.Stloc, set);
            }
        }
    }

    /// <summary>True when some jump, branch or predicted return of the block may go back to an instruction at or before it (a loop inside the method).</summary>
    private bool HasLoop()
    {
        if (_returnPoints.Count > 0)
        {
            return true; // a return may come back to a call above it
        }
        for (int k = 0; k < _code.Count; k++)
        {
            (uint pc, Instruction i) = _code[k];
            if (i.Op is Opcode.Jal or (>= Opcode.Beq and <= Opcode.Bgeu) && _indexOf.TryGetValue(pc + (uint)i.Imm, out int t) && t <= k)
            {
                return true;
            }
        }
        return false;
    }

    private LocalBuilder LoopLimit() => _loopLimit ?? throw new InvalidOperationException("a backward branch in a block without loops");

    private void EmitInstruction(in Instruction i, uint pc)
    {
        switch (i.Op)
        {
            case Opcode.Nop:
            case Opcode.Fence:
                break;
            case >= Opcode.Lb and <= Opcode.Lhu:
                EmitLoad(i, pc);
                break;
            case >= Opcode.Sb and <= Opcode.Sw:
                EmitStore(i, pc);
                break;
            default:
                EmitAlu(i, pc);
                break;
        }
        _offset++;
    }

    // ------------------------------------------------------------------ registers and constants

    private void LoadReg(int r)
    {
        if (r == 0)
        {
            _il.Emit(OpCodes.Ldc_I4_0);
        }
        else
        {
            _il.Emit(OpCodes.Ldloc, _reg[r]!);
        }
    }

    /// <summary>Stores the value on the stack into register <paramref name="r"/> (popped for x0).</summary>
    private void StoreReg(int r)
    {
        if (r == 0)
        {
            _il.Emit(OpCodes.Pop);
        }
        else
        {
            _il.Emit(OpCodes.Stloc, _reg[r]!);
        }
    }

    private void EmitInt(int value)
    {
        switch (value)
        {
            case -1: _il.Emit(OpCodes.Ldc_I4_M1); break;
            case 0: _il.Emit(OpCodes.Ldc_I4_0); break;
            case 1: _il.Emit(OpCodes.Ldc_I4_1); break;
            case 2: _il.Emit(OpCodes.Ldc_I4_2); break;
            case 3: _il.Emit(OpCodes.Ldc_I4_3); break;
            case 4: _il.Emit(OpCodes.Ldc_I4_4); break;
            case >= -128 and <= 127: _il.Emit(OpCodes.Ldc_I4_S, (sbyte)value); break;
            default: _il.Emit(OpCodes.Ldc_I4, value); break;
        }
    }

    private void EmitUInt(uint value) => EmitInt(unchecked((int)value));

    private void WriteBack()
    {
        for (int r = 1; r < 32; r++)
        {
            if ((_written & (1u << r)) != 0)
            {
                _il.Emit(OpCodes.Ldloc, _xs);
                EmitInt(4 * r);
                _il.Emit(OpCodes.Add);
                _il.Emit(OpCodes.Ldloc, _reg[r]!);
                _il.Emit(OpCodes.Stind_I4);
            }
        }
    }

    // ------------------------------------------------------------------ counting

    /// <summary>count += offset: brings the count local up to date on this path.</summary>
    private void Materialize(int extra = 0)
    {
        int n = _offset + extra;
        if (n != 0)
        {
            _il.Emit(OpCodes.Ldloc, _count);
            EmitInt(n);
            _il.Emit(OpCodes.Conv_I8);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Stloc, _count);
        }
        _offset = 0;
    }

    /// <summary>Pushes base + count + offset + extra: the cycle at this point of the path.</summary>
    private void EmitCycleHere(int extra)
    {
        _il.Emit(OpCodes.Ldloc, _base);
        _il.Emit(OpCodes.Ldloc, _count);
        _il.Emit(OpCodes.Add);
        int n = _offset + extra;
        if (n != 0)
        {
            EmitInt(n);
            _il.Emit(OpCodes.Conv_I8);
            _il.Emit(OpCodes.Add);
        }
    }

    /// <summary>state.Cycle = the cycle at this point (before the current instruction).</summary>
    private void EmitSetCycle()
    {
        _il.Emit(OpCodes.Ldloc, _state);
        EmitCycleHere(0);
        _il.Emit(OpCodes.Stfld, StateCycle);
    }

    private void EmitSetPc(uint pc)
    {
        _il.Emit(OpCodes.Ldloc, _state);
        EmitUInt(pc);
        _il.Emit(OpCodes.Stfld, StatePc);
    }

    // ------------------------------------------------------------------ exits

    /// <summary>Leaves through the shared epilogue: pc = <paramref name="pc"/>, executed = count + offset + <paramref name="extra"/>.</summary>
    /// <remarks>One epilogue per block keeps the IL (and so the JIT's time) small.</remarks>
    private void EmitExit(int kind, uint pc, int extra)
    {
        EmitUInt(pc);
        _il.Emit(OpCodes.Stloc, _exitPc);
        _il.Emit(OpCodes.Ldloc, _count);
        int n = _offset + extra;
        if (n != 0)
        {
            EmitInt(n);
            _il.Emit(OpCodes.Conv_I8);
            _il.Emit(OpCodes.Add);
        }
        _il.Emit(OpCodes.Stloc, _exitCount);
        EmitInt(kind);
        _il.Emit(OpCodes.Stloc, _exitKind);
        _il.Emit(OpCodes.Br, _epilogue);
    }

    /// <summary>A label for a rare exit (fault, misaligned jump, attention), emitted out of line: executed = count + <paramref name="countOffset"/>.</summary>
    private Label Stub(uint exitPc, int countOffset, int kind)
    {
        Label l = _il.DefineLabel();
        _stubs.Add((l, exitPc, countOffset, kind));
        return l;
    }

    private int AddExit(uint target)
    {
        int index = _exitTargets.IndexOf(target);
        if (index < 0)
        {
            index = _exitTargets.Count;
            _exitTargets.Add(target);
        }
        return index;
    }

    private void EmitStubsAndEpilogue()
    {
        foreach ((Label label, uint exitPc, int countOffset, int kind) in _stubs)
        {
            _il.MarkLabel(label);
            _offset = countOffset;
            EmitExit(kind, exitPc, 0);
        }
        _il.MarkLabel(_epilogue);
        WriteBack();
        EmitStoreExitPcAndCycle();
        Label misaligned = _il.DefineLabel();
        _il.Emit(OpCodes.Ldloc, _exitKind);
        EmitInt(KindMisaligned);
        _il.Emit(OpCodes.Beq, misaligned);
        EmitChain();
        _il.MarkLabel(misaligned);
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldfld, FrameContext);
        _il.Emit(OpCodes.Ldloc, _target);
        _il.Emit(OpCodes.Call, RuntimeMisaligned);
        _il.Emit(OpCodes.Ret);
    }

    /// <summary>state.Pc and state.Cycle at the exit.</summary>
    private void EmitStoreExitPcAndCycle()
    {
        _il.Emit(OpCodes.Ldloc, _state);
        _il.Emit(OpCodes.Ldloc, _exitPc);
        _il.Emit(OpCodes.Stfld, StatePc);
        _il.Emit(OpCodes.Ldloc, _state);
        _il.Emit(OpCodes.Ldloc, _base);
        _il.Emit(OpCodes.Ldloc, _exitCount);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Stfld, StateCycle);
    }

    /// <summary>
    /// Block chaining: jump straight into the next block instead of returning to the dispatcher,
    /// when <see cref="BlockRuntime.Next"/> finds one (a static exit's link or the jump cache, still
    /// valid, made in the current MMU epoch, fitting before the cycle limit, nothing needing
    /// attention). The jump is an IL tail call, so chains do not grow the stack; a chain budget
    /// bounds them anyway. The checks live in the helper: inline, they cost every block ~0.2 ms of JIT.
    /// </summary>
    private void EmitChain()
    {
        Label giveUp = _il.DefineLabel();
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldloc, _exitKind);
        _il.Emit(OpCodes.Ldloc, _exitPc);
        _il.Emit(OpCodes.Ldloc, _base);
        _il.Emit(OpCodes.Ldloc, _exitCount);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Ldarg_2);
        _il.Emit(OpCodes.Call, RuntimeNext);
        _il.Emit(OpCodes.Dup);
        _il.Emit(OpCodes.Brfalse, giveUp);
        _il.Emit(OpCodes.Ldloc, _base);
        _il.Emit(OpCodes.Ldloc, _exitCount);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Ldarg_2);
        EmitInt(1);
        _il.Emit(OpCodes.Sub);
        _il.Emit(OpCodes.Tailcall);
        _il.Emit(OpCodes.Callvirt, DelegateInvoke);
        _il.Emit(OpCodes.Ret);

        // Back to the dispatcher, which follows the exit of this block.
        _il.MarkLabel(giveUp);
        _il.Emit(OpCodes.Pop);
        _il.Emit(OpCodes.Ldloc, _exitKind);
        _il.Emit(OpCodes.Ret);
    }
}
