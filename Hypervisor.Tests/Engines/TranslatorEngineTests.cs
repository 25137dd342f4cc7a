using Hypervisor.Cpu;
using Hypervisor.Engines.Translation;
using Hypervisor.Isa;
using Hypervisor.Loading;
using Hypervisor.Machine;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Engines;

/// <summary>The binary translator's own promises: reuse, PC synchronization, self-modifying code, a bounded cache.</summary>
public sealed class TranslatorEngineTests
{
    private const int T0 = 5, T1 = 6, A0 = 10, A1 = 11;

    private static VirtualMachine Vm(uint[] words, MachineConfig? config = null) =>
        new("t", ElfImage.Parse("t", ElfWriter.Build(words)),
            (config ?? new MachineConfig()) with { Engine = EngineKind.BinaryTranslator, MemorySize = 64u << 10, TranslationThreshold = 1 });

    private static TranslatorEngine Bt(VirtualMachine vm) => (TranslatorEngine)vm.Engine;

    /// <summary>A loop of 10,000 rounds that calls a function on another page (a call and an indirect return between regions every round).</summary>
    private static uint[] CallLoop()
    {
        const int FarAway = 1024;                                // words: f starts on the next page
        var p = new ProgramBuilder();
        p.Li(T0, 10_000);
        int loop = p.Words.Count;
        int call = p.Words.Count;
        p.Emit(Opcode.Jal, 1, imm: 0);                          // call f (patched below)
        p.Emit(Opcode.Addi, T0, T0, imm: -1);
        p.Emit(Opcode.Bne, rs1: T0, rs2: 0, imm: (loop - p.Words.Count) * 4);
        p.PowerOff(0).Spin();
        while (p.Words.Count < FarAway)
        {
            p.Emit(Opcode.Nop);
        }
        p.Emit(Opcode.Addi, A0, A0, imm: 1);                    // f: a0++
        p.Emit(Opcode.Jalr, 0, 1, imm: 0);                      //    ret
        uint[] words = [.. p.Words];
        words[call] = Encoder.Encode(Opcode.Jal, 1, imm: (FarAway - call) * 4);
        return words;
    }

    [Fact]
    public void A_hot_loop_is_translated_once_and_then_found_in_the_cache()
    {
        VirtualMachine vm = Vm(CallLoop());

        RunSummary s = new GuestRunner(vm).Run(1_000_000);

        TranslationCacheStatistics st = Bt(vm).Cache.Statistics;
        Assert.Equal(RunEnd.PoweredOff, s.End);
        Assert.Equal(10_000u, vm.State.X[A0]);
        Assert.InRange(st.Translations, 1, 6);                  // a handful of regions, each compiled once
        Assert.Equal(0, st.Invalidations);
        Assert.True(st.Hits > st.Misses, $"hits {st.Hits}, misses {st.Misses}");
        Assert.True(Bt(vm).Statistics.InstructionsTranslated > 0.9 * s.Instret);
    }

    [Fact]
    public void A_fault_inside_a_block_reports_its_exact_pc_with_the_earlier_instructions_retired()
    {
        var p = new ProgramBuilder();
        int fix = p.Words.Count;
        p.Li(T0, 0).Emit(Opcode.Csrrw, 0, T0, imm: 0x305);     // mtvec = handler (fixed below)
        p.Emit(Opcode.Addi, A0, 0, imm: 1);
        p.Emit(Opcode.Addi, A0, A0, imm: 1);
        uint faulting = p.Here;
        p.Emit(Opcode.Lw, A1, 0, imm: 0x100);                  // nothing at 0x100: load access fault
        p.Emit(Opcode.Addi, A0, A0, imm: 100);                 // never runs
        p.Spin();
        uint handler = p.Here;
        p.PowerOff(0).Spin();
        uint[] words = [.. p.Words];
        (int hi, int lo) = Encoder.SplitConstant(handler);
        words[fix] = Encoder.Encode(Opcode.Lui, T0, imm: hi);
        words[fix + 1] = Encoder.Encode(Opcode.Addi, T0, T0, imm: lo);
        VirtualMachine vm = Vm(words);

        new GuestRunner(vm).Run(10_000);

        Assert.Equal(faulting, vm.State.Mepc);
        Assert.Equal((uint)ExceptionCause.LoadAccessFault, vm.State.Mcause);
        Assert.Equal(0x100u, vm.State.Mtval);
        Assert.Equal(2u, vm.State.X[A0]);                      // both additions retired, the one after the fault not
        Assert.True(Bt(vm).Statistics.InstructionsTranslated > 0, "the faulting block ran translated");
    }

    [Fact]
    public void Stores_into_translated_code_invalidate_it_and_fence_i_flushes_the_cache()
    {
        VirtualMachine vm = new("smc", ElfImage.Load(RepoPaths.Guest("smc")),
            new MachineConfig { Engine = EngineKind.BinaryTranslator, TranslationThreshold = 1 });

        RunSummary s = new GuestRunner(vm).Run(200_000_000);

        TranslationCacheStatistics st = Bt(vm).Cache.Statistics;
        Assert.Equal(0, s.ProcessExitCode);
        Assert.True(st.Invalidations > 0, "no block was invalidated by a store");
        Assert.True(st.Flushes > 0, "FENCE.I flushed nothing");
    }

    [Fact]
    public void A_full_cache_is_flushed_and_the_guest_runs_on_unchanged()
    {
        VirtualMachine small = new("isa", ElfImage.Load(RepoPaths.Guest("isa")),
            new MachineConfig { Engine = EngineKind.BinaryTranslator, TranslationThreshold = 1, TranslationCacheCapacity = 8 });
        VirtualMachine oracle = new("isa", ElfImage.Load(RepoPaths.Guest("isa")), new MachineConfig());

        RunSummary s = new GuestRunner(small).Run(200_000_000);
        new GuestRunner(oracle).Run(200_000_000);

        TranslationCacheStatistics st = Bt(small).Cache.Statistics;
        Assert.Equal(0, s.ProcessExitCode);
        Assert.True(st.Evictions > 0 && st.Flushes > 0, $"evictions {st.Evictions}, flushes {st.Flushes}");
        Assert.True(Bt(small).Cache.Count <= 8);
        Assert.Equal(oracle.State.X, small.State.X);
        Assert.Equal(oracle.State.Instret, small.State.Instret);
    }

    [Fact]
    public void A_cache_of_no_blocks_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new MachineConfig { TranslationCacheCapacity = 0 }.Validate());

        Assert.Contains("translation cache capacity", e.Message);
    }
}
