using Hypervisor.Fuzzing;
using Hypervisor.Isa;
using Hypervisor.Loading;
using Hypervisor.Machine;

namespace Hypervisor.Tests.Fuzzing;

/// <summary>
/// Divergences the lockstep fuzzer found, and the fixed behaviour they pin down: a word that a
/// sub-page PMP entry forbids to execute is never fetched from a page the interpreter, the
/// translator or direct execution had cached as executable.
/// </summary>
public sealed class FoundDivergenceTests
{
    private const int T0 = 5, T1 = 6;

    /// <summary>
    /// PMP entry 0 covers one word X (NA4, no permissions) in a U-mode code page; U code runs a store
    /// that faults just before X, the handler skips the store and MRETs to X. Fetching X in U must
    /// raise an instruction access fault (mcause 1): the handler then powers off failing with code 1,
    /// as on the interpreter, the translator and QEMU 7.2 (exit 1). The hybrid (mode-split, U by
    /// direct execution) runs X. Written after the long fuzz run's finding below.
    /// </summary>
    public static uint[] PmpWordReturnedToAfterATrap(bool trapFirst = true)
    {
        var p = new ProgramBuilder();
        int mtvec = p.Words.Count;
        p.Li(T0, 0).Emit(Opcode.Csrrw, 0, T0, imm: 0x305);                         // mtvec = handler
        p.Emit(Opcode.Addi, T0, 0, imm: -1).Emit(Opcode.Csrrw, 0, T0, imm: 0x3BF);  // pmpaddr15: everything
        p.Li(T0, 0x1F00_0000).Emit(Opcode.Csrrw, 0, T0, imm: 0x3A3);               // entry 15: NAPOT, RWX
        int x = p.Words.Count;
        p.Li(T0, 0).Emit(Opcode.Srli, T0, T0, imm: 2).Emit(Opcode.Csrrw, 0, T0, imm: 0x3B0); // pmpaddr0 = X >> 2
        p.Li(T0, 0x10).Emit(Opcode.Csrrw, 0, T0, imm: 0x3A0);                      // entry 0: NA4, no permissions
        int u = p.Words.Count;
        p.Li(T0, 0).Emit(Opcode.Csrrw, 0, T0, imm: 0x341);                         // mepc = the U code
        p.Li(T0, 0x1800).Emit(Opcode.Csrrc, 0, T0, imm: 0x300);                    // MPP = U
        p.Emit(Opcode.Mret);
        uint uCode = p.Here;
        if (trapFirst)
        {
            p.Emit(Opcode.Sw, rs1: 0, rs2: 0, imm: 0);                             // a store access fault, skipped
        }
        else
        {
            p.Emit(Opcode.Addi, 0, 0, imm: 0);                                     // straight on into X
        }
        uint xAddress = p.Here;
        p.PowerOff(0).Spin();                                                      // X: U may not fetch it
        uint handler = p.Here;
        p.Emit(Opcode.Csrrs, T1, 0, imm: 0x342);                                   // t1 = mcause
        p.Emit(Opcode.Addi, T0, 0, imm: 7);
        p.Emit(Opcode.Bne, rs1: T1, rs2: T0, imm: 20);
        p.Emit(Opcode.Csrrs, T0, 0, imm: 0x341).Emit(Opcode.Addi, T0, T0, imm: 4).Emit(Opcode.Csrrw, 0, T0, imm: 0x341);
        p.Emit(Opcode.Mret);                                                       // the store: skip it, back to U at X
        p.Emit(Opcode.Slli, T1, T1, imm: 16);                                      // anything else: fail with code mcause
        p.Li(T0, 0x3333).Emit(Opcode.Or, T1, T1, T0);
        p.Li(T0, 0x0010_0000).Emit(Opcode.Sw, rs1: T0, rs2: T1, imm: 0);
        p.Spin();
        uint[] words = [.. p.Words];
        void Fix(int at, uint value)
        {
            (int hi, int lo) = Encoder.SplitConstant(value);
            words[at] = Encoder.Encode(Opcode.Lui, T0, imm: hi);
            words[at + 1] = Encoder.Encode(Opcode.Addi, T0, T0, imm: lo);
        }
        Fix(mtvec, handler);
        Fix(x, xAddress);
        Fix(u, uCode);
        return words;
    }

    [Theory]
    [MemberData(nameof(Robustness.RobustFleet.Engines), MemberType = typeof(Robustness.RobustFleet))]
    public void A_u_mode_return_to_a_word_pmp_forbids_faults_on_every_engine(EngineKind engine)
    {
        ElfImage image = ElfImage.Parse("pmp-na4", ElfWriter.Build(PmpWordReturnedToAfterATrap()));
        foreach (int? threshold in new int?[] { 1, 2, null })
        {
            var vm = new VirtualMachine("pmp-na4", image, new MachineConfig { Engine = engine, MemorySize = 64u << 10, TranslationThreshold = threshold });

            RunSummary s = new GuestRunner(vm).Run(10_000);

            Assert.Equal(RunEnd.PoweredOff, s.End);
            Assert.True(s.GuestCode == 1, $"{engine}, translation threshold {threshold?.ToString() ?? "default"}: exit code {s.GuestCode} " +
                                          "(1 = the fetch of X faulted, as on the interpreter and QEMU; 0 = U mode ran X)");
        }
    }

    [Theory]
    [MemberData(nameof(Robustness.RobustFleet.Engines), MemberType = typeof(Robustness.RobustFleet))]
    public void U_mode_running_straight_on_into_a_word_pmp_forbids_faults_on_every_engine(EngineKind engine)
    {
        ElfImage image = ElfImage.Parse("pmp-na4-fallthrough", ElfWriter.Build(PmpWordReturnedToAfterATrap(trapFirst: false)));
        var vm = new VirtualMachine("pmp-na4", image, new MachineConfig { Engine = engine, MemorySize = 64u << 10, TranslationThreshold = 1 });

        RunSummary s = new GuestRunner(vm).Run(10_000);

        Assert.Equal(RunEnd.PoweredOff, s.End);
        Assert.Equal(1, s.GuestCode);
    }

    /// <summary>
    /// One instruction per slice: each slice starts on the page the last one ended on, and the
    /// interpreter's memory of that page must not skip the fetch check of a word PMP forbids.
    /// </summary>
    [Theory]
    [MemberData(nameof(Robustness.RobustFleet.Engines), MemberType = typeof(Robustness.RobustFleet))]
    public void Single_stepped_the_return_to_a_word_pmp_forbids_faults_on_every_engine(EngineKind engine)
    {
        ElfImage image = ElfImage.Parse("pmp-na4", ElfWriter.Build(PmpWordReturnedToAfterATrap()));
        var vm = new VirtualMachine("pmp-na4", image, new MachineConfig { Engine = engine, MemorySize = 64u << 10, TranslationThreshold = 1 });

        for (int i = 0; i < 10_000 && vm.VmState != VmState.PoweredOff; i++)
        {
            vm.RunSlice(1);
        }

        Assert.Equal(VmState.PoweredOff, vm.VmState);
        Assert.Equal(1, vm.ExitCode);
    }

    /// <summary>
    /// The program the long run found (<c>hv fuzz --engines interp,bt,hybrid --count 1000000 --seed 10
    /// --profile quick</c>, program #517016, seed 335133776), replayed in lockstep from its seed.
    /// </summary>
    [Fact]
    public void The_found_program_agrees_on_interpreter_and_translator()
    {
        FuzzProgram program = new ProgramGenerator(GeneratorOptions.Quick).Generate(335133776);
        Assert.Equal(335133776, ProgramGenerator.ProgramSeed(10, 517016));

        LockstepResult r = new LockstepRunner(new LockstepOptions { TranslationThreshold = 2 }).Run(program);

        Assert.True(r.Agreed, LockstepRunner.Report(program, r));
    }

    /// <summary>
    /// The found program cut down by hand to 13 instructions (every other one is essential): PMP
    /// entries 12..15 locked NAPOT RWX (pmpcfg3 = -1), entry 2 NA4 over 0x800001d4 with W only
    /// (no X); U code entered at 0x80000188 runs to an MRET (illegal in U: skipped), then a store
    /// to address 0 (access fault: skipped) whose return lands on 0x800001d4. The interpreter
    /// takes an instruction access fault there (mcause 1: the handler escapes to t5, x31 ends 0);
    /// the translator and the hybrid run the word in U (x31 ends 1: the next trap is cause 2).
    /// </summary>
    public static FuzzProgram MinimalFinding()
    {
        uint[] code = Enumerable.Repeat(FuzzLayout.Nop, 121).ToArray();
        foreach ((uint at, uint word) in new (uint, uint)[]
        {
            (0x8000_0000, 0x800032b7), // lui t0, 0x80003
            (0x8000_0008, 0x30529073), // csrw mtvec, t0
            (0x8000_0018, 0xfff00293), // li t0, -1
            (0x8000_001c, 0x3bf29073), // csrw pmpaddr15, t0
            (0x8000_0028, 0x3a329073), // csrw pmpcfg3, t0         entries 12..15: locked, NAPOT, RWX
            (0x8000_0138, 0x200009b7), // lui s3, 0x20000
            (0x8000_013c, 0x07598993), // addi s3, s3, 117
            (0x8000_0140, 0x3b299073), // csrw pmpaddr2, s3         0x800001d4 >> 2
            (0x8000_0150, 0x001209b7), // lui s3, 0x120
            (0x8000_0158, 0x3a09a073), // csrs pmpcfg0, s3          entry 2: NA4, W only
            (0x8000_0184, 0x00800f6f), // jal t5, +8                t5 = 0x80000188
            (0x8000_01b0, 0x30200073), // mret                      (mepc 0, MPP U: a fetch fault escapes to t5 in M; then again from there in U)
            (0x8000_01d0, 0x0186a023), // sw s8, 0(a3)              a3 = 0: a store access fault, skipped; returns to 0x800001d4
        })
        {
            code[(at - FuzzLayout.CodeBase) / 4] = word;
        }
        uint[] handler = Enumerable.Repeat(FuzzLayout.Nop, 21).ToArray();
        foreach ((uint at, uint word) in new (uint, uint)[]
        {
            (0x8000_3000, 0x34202ff3), (0x8000_3008, 0xff4f8f93), (0x8000_3010, 0x003f8f93), (0x8000_3018, 0x001f8f93),
            (0x8000_3020, 0x007f8f93), (0x8000_3024, 0x000f8e63), (0x8000_3028, 0x34102ff3), (0x8000_302c, 0x004f8f93),
            (0x8000_3030, 0x341f9073), (0x8000_3034, 0x30200073), (0x8000_3040, 0x341f1073), (0x8000_3050, 0x30200073),
        })
        {
            handler[(at - FuzzLayout.HandlerBase) / 4] = word;
        }
        return new FuzzProgram(1, code, handler, new byte[FuzzLayout.DataSize], -1);
    }

    [Theory]
    [InlineData(EngineKind.BinaryTranslator)]
    [InlineData(EngineKind.Hybrid)]
    public void The_minimal_program_agrees_with_the_interpreter(EngineKind engine)
    {
        FuzzProgram program = MinimalFinding();

        LockstepResult r = new LockstepRunner(new LockstepOptions { EngineB = engine, TranslationThreshold = 1 }).Run(program);

        Assert.True(r.Agreed, LockstepRunner.Report(program, r));
    }
}
