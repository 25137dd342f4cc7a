using Hypervisor.Fuzzing;
using Hypervisor.Isa;
using Hypervisor.Machine;

namespace Hypervisor.Tests.Fuzzing;

/// <summary>The random program generator: deterministic per seed, and its programs are valid and terminate.</summary>
public sealed class ProgramGeneratorTests
{
    [Fact]
    public void Same_seed_gives_the_same_program()
    {
        var generator = new ProgramGenerator();
        for (int seed = 0; seed < 50; seed++)
        {
            FuzzProgram a = generator.Generate(seed), b = new ProgramGenerator().Generate(seed);
            Assert.Equal(a.Code, b.Code);
            Assert.Equal(a.Handler, b.Handler);
            Assert.Equal(a.Data, b.Data);
            Assert.Equal(a.DataRegister, b.DataRegister);
            Assert.Equal(a.ToElf(), b.ToElf());
        }
    }

    [Fact]
    public void Different_seeds_give_different_programs()
    {
        var generator = new ProgramGenerator();
        var distinct = new HashSet<string>();
        for (int seed = 0; seed < 100; seed++)
        {
            distinct.Add(Convert.ToHexString(generator.Generate(seed).ToImage()));
        }
        Assert.Equal(100, distinct.Count);
    }

    [Fact]
    public void Campaign_seeds_are_fixed_and_spread()
    {
        Assert.Equal(ProgramGenerator.ProgramSeed(7, 12345), ProgramGenerator.ProgramSeed(7, 12345));
        var seeds = Enumerable.Range(0, 10_000).Select(i => ProgramGenerator.ProgramSeed(1, i)).ToHashSet();
        Assert.True(seeds.Count > 9_990);
        Assert.NotEqual(ProgramGenerator.ProgramSeed(1, 5), ProgramGenerator.ProgramSeed(2, 5));
    }

    [Fact]
    public void Programs_are_short_and_use_every_feature()
    {
        var generator = new ProgramGenerator();
        var ops = new HashSet<Opcode>();
        int longest = 0;
        for (int seed = 0; seed < 500; seed++)
        {
            FuzzProgram p = generator.Generate(seed);
            longest = Math.Max(longest, p.Code.Length);
            foreach (uint w in p.Code)
            {
                ops.Add(Decoder.Decode(w).Op);
            }
        }
        Assert.True(longest < 1000, $"longest program {longest} words");
        foreach (Opcode op in new[]
        {
            Opcode.Add, Opcode.Srai, Opcode.Lui, Opcode.Auipc, Opcode.Mulh, Opcode.Remu, Opcode.Lb, Opcode.Lhu, Opcode.Sh,
            Opcode.Sw, Opcode.Beq, Opcode.Bgeu, Opcode.Jal, Opcode.Jalr, Opcode.LrW, Opcode.ScW, Opcode.AmomaxuW,
            Opcode.Ecall, Opcode.Ebreak, Opcode.Illegal, Opcode.Fence, Opcode.FenceI, Opcode.Mret, Opcode.Csrrs, Opcode.Csrrw,
        })
        {
            Assert.Contains(op, ops);
        }
    }

    [Fact]
    public void Programs_power_off_with_a_pass_on_the_interpreter()
    {
        var generator = new ProgramGenerator();
        for (int seed = 0; seed < 300; seed++)
        {
            FuzzProgram p = generator.Generate(seed);
            int? exit = SelfCheck.RunToEnd(p, EngineKind.Interpreter, null, 100_000);
            Assert.True(exit == 0, $"seed {seed}: exit {exit?.ToString() ?? "none"}\n{p.Disassemble()}");
        }
    }

    [Fact]
    public void The_data_register_is_never_written_after_the_prologue()
    {
        var generator = new ProgramGenerator();
        for (int seed = 0; seed < 300; seed++)
        {
            FuzzProgram p = generator.Generate(seed);
            int writes = p.Code.Select(Decoder.Decode).Count(i => i.Rd == p.DataRegister && WritesRd(i.Op));
            Assert.True(writes == 2 || (writes > 2 && WritesOnlyAtEnd(p)), $"seed {seed}: {writes} writes of the data register");
        }
    }

    private static bool WritesRd(Opcode op) =>
        op is Opcode.Lui or Opcode.Auipc or Opcode.Jal or Opcode.Jalr or (>= Opcode.Lb and <= Opcode.Lhu) or
            (>= Opcode.Addi and <= Opcode.Remu) or (>= Opcode.LrW and <= Opcode.AmomaxuW) or (>= Opcode.Csrrw and <= Opcode.Csrrci);

    // x5 and x6 are written again by the power-off epilogue: the data register may be one of them.
    private static bool WritesOnlyAtEnd(FuzzProgram p) => p.DataRegister is 5 or 6;
}
