using Hypervisor.Cpu;
using Hypervisor.Engines.Translation;
using Hypervisor.Isa;
using Hypervisor.Loading;
using Hypervisor.Machine;

namespace Hypervisor.Tests.Engines;

/// <summary>How the translator carves guest code into regions, and what a region does without the dispatcher.</summary>
public sealed class RegionFormationTests
{
    private const int Ra = 1, T0 = 5, T1 = 6, A0 = 10, A1 = 11;

    private static VirtualMachine Vm(uint[] words, int threshold) =>
        new("t", ElfImage.Parse("t", ElfWriter.Build(words)),
            new MachineConfig { Engine = EngineKind.BinaryTranslator, MemorySize = 64u << 10, TranslationThreshold = threshold });

    private static TranslatorEngine Bt(VirtualMachine vm) => (TranslatorEngine)vm.Engine;

    /// <summary>200 calls of a function whose loop runs 20 rounds a call: the loop gets hot before the function's entry does.</summary>
    private static (uint[] Words, uint Outer, uint Return, uint Inner) FunctionWithALoop()
    {
        var p = new ProgramBuilder();
        p.Li(T0, 200);
        uint outer = p.Here;
        int call = p.Words.Count;
        p.Emit(Opcode.Jal, Ra, imm: 0);                          // call f (patched below)
        uint returnPoint = p.Here;
        p.Emit(Opcode.Addi, T0, T0, imm: -1);
        p.Emit(Opcode.Bne, rs1: T0, rs2: 0, imm: (int)(outer - p.Here));
        p.PowerOff(0).Spin();
        uint f = p.Here;
        p.Emit(Opcode.Addi, T1, 0, imm: 20);                    // f: the loop's set-up
        uint inner = p.Here;
        p.Emit(Opcode.Addi, A0, A0, imm: 1);
        p.Emit(Opcode.Addi, T1, T1, imm: -1);
        p.Emit(Opcode.Bne, rs1: T1, rs2: 0, imm: (int)(inner - p.Here));
        p.Emit(Opcode.Jalr, 0, Ra, imm: 0);                     // ret
        uint[] words = [.. p.Words];
        words[call] = Encoder.Encode(Opcode.Jal, Ra, imm: (int)(f - outer));
        return (words, outer, returnPoint, inner);
    }

    private static List<TranslatedBlock> RunCollectingBlocks(VirtualMachine vm)
    {
        var blocks = new List<TranslatedBlock>();
        Bt(vm).Cache.BlockAdded += (b, _) => blocks.Add(b);
        RunSummary s = new GuestRunner(vm).Run(1_000_000);
        Assert.Equal(RunEnd.PoweredOff, s.End);
        return blocks;
    }

    [Fact]
    public void A_loop_that_got_hot_first_is_compiled_once_not_again_inside_its_function_or_its_caller()
    {
        (uint[] words, _, _, uint inner) = FunctionWithALoop();
        VirtualMachine vm = Vm(words, threshold: 16);

        List<TranslatedBlock> blocks = RunCollectingBlocks(vm);

        Assert.Equal(4_000u, vm.State.X[A0]);
        Assert.Single(blocks, b => b.PhysicalStart <= inner && inner < b.PhysicalEnd);
    }

    [Fact]
    public void A_region_headed_inside_a_loop_takes_in_the_loop_above_its_start()
    {
        (uint[] words, uint outer, uint returnPoint, _) = FunctionWithALoop();
        VirtualMachine vm = Vm(words, threshold: 16);

        List<TranslatedBlock> blocks = RunCollectingBlocks(vm);

        // The return point heads a region (a return reaches it); its loop's top, the call above
        // it, is in that region too, so the loop does not go back and forth between two regions.
        TranslatedBlock atReturn = Assert.Single(blocks, b => b.EntryPc == returnPoint);
        Assert.Equal(outer, atReturn.PhysicalStart);
    }

    [Fact]
    public void A_CSR_instruction_inside_a_block_lets_the_block_carry_on()
    {
        var p = new ProgramBuilder();
        p.Li(T0, 1_000);
        p.Li(T1, 7).Emit(Opcode.Csrrw, 0, T1, imm: 0x340);     // mscratch = 7
        uint loop = p.Here;
        p.Emit(Opcode.Csrrs, A1, 0, imm: 0x340);               // a1 = mscratch
        p.Emit(Opcode.Add, A0, A0, A1);
        p.Emit(Opcode.Addi, T0, T0, imm: -1);
        p.Emit(Opcode.Bne, rs1: T0, rs2: 0, imm: (int)(loop - p.Here));
        p.PowerOff(0).Spin();
        VirtualMachine vm = Vm([.. p.Words], threshold: 1);

        RunSummary s = new GuestRunner(vm).Run(1_000_000);

        Assert.Equal(RunEnd.PoweredOff, s.End);
        Assert.Equal(7_000u, vm.State.X[A0]);
        Assert.True(Bt(vm).Statistics.Callouts >= 1_000, $"callouts {Bt(vm).Statistics.Callouts}");
        Assert.True(Bt(vm).Cache.Statistics.Lookups < 100, $"{Bt(vm).Cache.Statistics.Lookups} dispatches: the block left at every CSR read");
    }

    [Fact]
    public void A_CSR_write_that_unmasks_a_pending_interrupt_leaves_the_block_before_the_next_instruction()
    {
        var p = new ProgramBuilder();
        int fix = p.Words.Count;
        p.Li(T0, 0).Emit(Opcode.Csrrw, 0, T0, imm: 0x305);     // mtvec = handler (patched below)
        p.Li(T0, 0x0200_4000);                                 // CLINT mtimecmp = 0: the timer is due at once
        p.Emit(Opcode.Sw, rs1: T0, rs2: 0, imm: 0);
        p.Emit(Opcode.Sw, rs1: T0, rs2: 0, imm: 4);
        p.Li(T1, 0x80).Emit(Opcode.Csrrs, 0, T1, imm: 0x304);  // mie.MTIE
        p.Li(T1, 0x8).Emit(Opcode.Csrrs, 0, T1, imm: 0x300);   // mstatus.MIE: the interrupt is taken here
        uint next = p.Here;
        p.Emit(Opcode.Addi, A0, A0, imm: 1);                    // must not run before the handler
        p.Spin();
        uint handler = p.Here;
        p.PowerOff(0).Spin();
        uint[] words = [.. p.Words];
        (int hi, int lo) = Encoder.SplitConstant(handler);
        words[fix] = Encoder.Encode(Opcode.Lui, T0, imm: hi);
        words[fix + 1] = Encoder.Encode(Opcode.Addi, T0, T0, imm: lo);
        VirtualMachine bt = Vm(words, threshold: 1);
        VirtualMachine oracle = new("t", ElfImage.Parse("t", ElfWriter.Build(words)), new MachineConfig { MemorySize = 64u << 10 });

        new GuestRunner(bt).Run(10_000);
        new GuestRunner(oracle).Run(10_000);

        Assert.Equal(next, oracle.State.Mepc);
        Assert.Equal(next, bt.State.Mepc);
        Assert.Equal(0x8000_0007u, bt.State.Mcause);            // machine timer interrupt
        Assert.Equal(0u, bt.State.X[A0]);
        Assert.True(Bt(bt).Statistics.InstructionsTranslated > 0, "the CSR writes ran translated");
    }

    /// <summary>10,000 rounds of a call to a function on the same page; <paramref name="skip"/>: the function returns one instruction past its return point.</summary>
    private static uint[] SamePageCalls(bool skip)
    {
        var p = new ProgramBuilder();
        p.Li(T0, 10_000);
        uint loop = p.Here;
        int call = p.Words.Count;
        p.Emit(Opcode.Jal, Ra, imm: 0);                          // call f (patched below)
        p.Emit(Opcode.Addi, A1, A1, imm: 1);                     // skipped when f returns past it
        p.Emit(Opcode.Addi, T0, T0, imm: -1);
        p.Emit(Opcode.Bne, rs1: T0, rs2: 0, imm: (int)(loop - p.Here));
        p.PowerOff(0).Spin();
        uint f = p.Here;
        p.Emit(Opcode.Addi, A0, A0, imm: 1);
        if (skip)
        {
            p.Emit(Opcode.Addi, Ra, Ra, imm: 4);
        }
        p.Emit(Opcode.Jalr, 0, Ra, imm: 0);
        uint[] words = [.. p.Words];
        words[call] = Encoder.Encode(Opcode.Jal, Ra, imm: (int)(f - loop));
        return words;
    }

    [Fact]
    public void A_call_and_its_return_on_the_same_page_run_inside_one_region()
    {
        VirtualMachine vm = Vm(SamePageCalls(skip: false), threshold: 1);

        RunSummary s = new GuestRunner(vm).Run(1_000_000);

        Assert.Equal(RunEnd.PoweredOff, s.End);
        Assert.Equal(10_000u, vm.State.X[A0]);
        Assert.Equal(10_000u, vm.State.X[A1]);
        Assert.True(Bt(vm).Cache.Statistics.Lookups < 100, $"{Bt(vm).Cache.Statistics.Lookups} dispatches: calls or returns left the region");
    }

    [Fact]
    public void A_return_to_somewhere_other_than_the_return_point_goes_there()
    {
        VirtualMachine vm = Vm(SamePageCalls(skip: true), threshold: 1);

        RunSummary s = new GuestRunner(vm).Run(1_000_000);

        Assert.Equal(RunEnd.PoweredOff, s.End);
        Assert.Equal(10_000u, vm.State.X[A0]);
        Assert.Equal(0u, vm.State.X[A1]);                        // the instruction after the call never ran
    }
}
