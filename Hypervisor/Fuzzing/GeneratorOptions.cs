namespace Hypervisor.Fuzzing;

/// <summary>What generated programs may contain. Each flag adds one family of instructions or one program shape.</summary>
/// <remarks>
/// A new family is a flag here and one case in <see cref="ProgramGenerator"/>. The system families
/// (<see cref="UserMode"/>, <see cref="Privileged"/>, <see cref="Delegation"/>, <see cref="Sv32"/>) share
/// one program shape: segments entered by MRET or SRET that end with ECALL, a machine-mode trap
/// handler and a supervisor-mode one (ProgramGenerator.System.cs).
/// </remarks>
[Flags]
public enum FuzzFeatures
{
    None = 0,

    /// <summary>Register-register and register-immediate ALU instructions, LUI, AUIPC, constants.</summary>
    Alu = 1 << 0,

    /// <summary>MUL/DIV/REM family, with edge operands (0, -1, 0x80000000, ...).</summary>
    MulDiv = 1 << 1,

    /// <summary>Loads and stores of every width at random (also misaligned) offsets into the data page.</summary>
    LoadStore = 1 << 2,

    /// <summary>Forward conditional branches over a few instructions (rarely to a misaligned target).</summary>
    Branches = 1 << 3,

    /// <summary>JAL and AUIPC+JALR over a few instructions (also with bit 0 set, rarely misaligned).</summary>
    Jumps = 1 << 4,

    /// <summary>Small counted loops whose counter the body does not write.</summary>
    Loops = 1 << 5,

    /// <summary>LR/SC pairs and AMOs on data-page words (rarely misaligned).</summary>
    Atomics = 1 << 6,

    /// <summary>ECALL, EBREAK and illegal words; the trap handler skips them.</summary>
    Traps = 1 << 7,

    /// <summary>FENCE and FENCE.I.</summary>
    Fences = 1 << 8,

    /// <summary>Stores of new instructions into the program's own code, then FENCE.I, then running them.</summary>
    SelfModifying = 1 << 9,

    /// <summary>Loads and stores to addresses outside RAM (access faults the handler skips).</summary>
    FaultingAccess = 1 << 10,

    /// <summary>Counter reads (cycle, time, instret, mcycle, minstret) and scratch CSR reads/writes.</summary>
    Counters = 1 << 11,

    /// <summary>Segments run in U-mode: MRET to U with PMP open, ECALL back to M.</summary>
    UserMode = 1 << 12,

    /// <summary>Loads and stores to device registers: CLINT (msip, mtimecmp, mtime), UART, PLIC.</summary>
    Devices = 1 << 13,

    /// <summary>
    /// Machine software and timer interrupts: enabling them in mie/mstatus, raising msip, arming
    /// mtimecmp a few ticks ahead, and WFI until the armed timer is due. The handler disables all
    /// interrupts when it takes one.
    /// </summary>
    Interrupts = 1 << 14,

    /// <summary>
    /// CSR reads and writes of the S and M CSRs (mstatus, sstatus, mie, sie, mip, sip, scratch,
    /// epc, cause, tval, counteren, envcfg, PMP entries), with values from masks that keep the
    /// program's own trap vectors; MRET and SRET into segments in U, S or M.
    /// </summary>
    Privileged = 1 << 15,

    /// <summary>medeleg/mideleg, traps and software interrupts taken in S by an S-mode handler.</summary>
    Delegation = 1 << 16,

    /// <summary>
    /// Sv32: page tables the program builds (identity and alias superpages, a 4 KiB window whose
    /// entries items rewrite), satp on and off, accesses and jumps through the mappings, page
    /// faults, SFENCE.VMA.
    /// </summary>
    Sv32 = 1 << 17,

    /// <summary>Everything built so far.</summary>
    All = Alu | MulDiv | LoadStore | Branches | Jumps | Loops | Atomics | Traps | Fences | SelfModifying |
          FaultingAccess | Counters | UserMode | Devices | Interrupts | Privileged | Delegation | Sv32,

    /// <summary>The families that run code below M: segments, the S-mode handler, paging.</summary>
    System = UserMode | Privileged | Delegation | Sv32,
}

/// <summary>How <see cref="ProgramGenerator"/> shapes programs.</summary>
public sealed record GeneratorOptions
{
    public FuzzFeatures Features { get; init; } = FuzzFeatures.All;

    /// <summary>Fewest top-level items (an item is one instruction or a small construct: a loop, a skipped segment, ...).</summary>
    public int MinItems { get; init; } = 10;

    /// <summary>Most top-level items.</summary>
    public int MaxItems { get; init; } = 40;

    /// <summary>How deeply loops, skipped segments and U-mode segments nest.</summary>
    public int MaxDepth { get; init; } = 2;

    /// <summary>
    /// Times the body runs (an outer counted loop when above 1). With a translation threshold of
    /// 2, a repeated body runs interpreted once and translated from then on, while code that runs
    /// only once (prologue, epilogue, entries in the middle of a block where a slice ended) is never
    /// compiled: most of the translator's code paths for a fraction of the JIT time.
    /// </summary>
    public int Repeat { get; init; } = 1;

    public static GeneratorOptions Default { get; } = new();

    /// <summary>
    /// Short programs whose body runs twice, for translators with threshold 2: the profile of the
    /// fixed-seed test, where compiling blocks (about a millisecond each) dominates the run time.
    /// </summary>
    public static GeneratorOptions Quick { get; } = new() { MinItems = 3, MaxItems = 12, MaxDepth = 1, Repeat = 2 };
}
