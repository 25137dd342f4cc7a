using Hypervisor.Cpu;
using Hypervisor.Isa;
using Hypervisor.Machine;

namespace Hypervisor.Fuzzing;

/// <summary>A program with a self-check appended, and what each failure exit code means.</summary>
/// <param name="Program">The program: the shrunk code, then the check, then power-off (pass).</param>
/// <param name="Checks">Check names by exit code (index 0 unused: 0 is a pass).</param>
/// <param name="OracleExit">Exit code on the oracle (0 by construction).</param>
/// <param name="OtherExit">Exit code on the engine under test (null when it did not power off).</param>
public sealed record SelfCheckProgram(FuzzProgram Program, IReadOnlyList<string> Checks, int? OracleExit, int? OtherExit)
{
    /// <summary>True when running the program on the engine under test fails the check (so <c>hv run</c> alone shows the bug).</summary>
    public bool ReproducesAlone => OracleExit == 0 && OtherExit is not null && OtherExit != 0;

    public string Describe(int? exitCode) =>
        exitCode is int c && c > 0 && c < Checks.Count ? $"exit code {c}: {Checks[c]} differs" : exitCode is 0 ? "exit code 0 (pass)" : "no exit";
}

/// <summary>
/// Turns a shrunk program into a self-checking guest: where the program's code ends, a check
/// compares every register, the main M-mode CSRs, the counters and checksums of the code and the
/// data page with the values the oracle has there, and powers off with a pass, or a fail code
/// naming the first field that differs. So <c>hv run repro.elf --engine bt</c> fails on its own.
/// </summary>
public static class SelfCheck
{
    private const int FailWords = 6;

    /// <summary>
    /// Builds the self-checking program, or returns null when the oracle never reaches the end of
    /// the code in M-mode (the program loops, stops or ends elsewhere).
    /// </summary>
    public static SelfCheckProgram? Build(FuzzProgram program, EngineKind oracle, EngineKind other, int? translationThreshold = 1,
        ulong maxInstructions = 20_000)
    {
        uint checkAddress = FuzzLayout.CodeBase + (uint)program.Code.Length * 4;
        if (program.Code.Length + 600 > FuzzLayout.MaxCodeWords)
        {
            return null;
        }
        // Run the oracle to the end of the code, with a spin there (the check is not written yet).
        FuzzProgram probe = program with { Code = [.. program.Code, Encoder.Encode(Opcode.Jal, 0, imm: 0)] };
        VirtualMachine vm = NewVm(probe, oracle, null);
        while (vm.State.Pc != checkAddress || vm.State.Privilege != Privilege.Machine)
        {
            if (vm.State.Executed >= maxInstructions || vm.RunSlice(1).Reason != StopReason.BudgetExhausted)
            {
                return null;
            }
        }
        var checks = new List<string> { "pass" };
        var c = new ProgramBuilder(checkAddress);
        HartState s = vm.State;
        ulong executed = 0; // instructions the check has run before the current one, on the passing path

        c.Emit(Opcode.Csrrw, 0, 31, imm: CsrAddress.Mscratch); // x31 is the scratch register from here on
        executed++;
        for (int reg = 1; reg < 31; reg++)
        {
            Compare(c, checks, $"x{reg} ({Disassembler.RegisterName(reg)})", reg, s.X[reg]);
            executed += 3;
        }
        c.Emit(Opcode.Csrrs, 30, 0, imm: CsrAddress.Mscratch);
        Compare(c, checks, "x31 (t6)", 30, s.X[31]);
        executed += 4;
        foreach ((string name, int csr) in new[]
        {
            ("mstatus", CsrAddress.Mstatus), ("mtvec", CsrAddress.Mtvec), ("mepc", CsrAddress.Mepc),
            ("mcause", CsrAddress.Mcause), ("mtval", CsrAddress.Mtval), ("mie", CsrAddress.Mie), ("mip", CsrAddress.Mip),
            ("minstret", CsrAddress.Minstret),
            ("mcycle", CsrAddress.Mcycle),
        })
        {
            uint expected = vm.Hart.ReadCsr(csr);
            if (csr is CsrAddress.Minstret or CsrAddress.Mcycle)
            {
                expected += (uint)executed;
            }
            c.Emit(Opcode.Csrrs, 30, 0, imm: csr);
            Compare(c, checks, name, 30, expected);
            executed += 4;
        }
        if (program.Code.Length > 0)
        {
            Checksum(c, checks, "code checksum", FuzzLayout.CodeBase, checkAddress, ChecksumOf(vm, FuzzLayout.CodeBase, checkAddress));
        }
        uint dataEnd = FuzzLayout.DataBase + FuzzLayout.DataSize;
        Checksum(c, checks, "data page checksum", FuzzLayout.DataBase, dataEnd, ChecksumOf(vm, FuzzLayout.DataBase, dataEnd));
        PowerOff(c, 0);

        FuzzProgram result = program with { Code = [.. program.Code, .. c.Words] };
        return new SelfCheckProgram(result, checks, RunToEnd(result, oracle, null, maxInstructions + 20_000),
            RunToEnd(result, other, translationThreshold, maxInstructions + 20_000));
    }

    /// <summary>Runs a program to its end on one engine; its exit code, or null when it did not power off.</summary>
    public static int? RunToEnd(FuzzProgram program, EngineKind engine, int? translationThreshold, ulong maxInstructions)
    {
        VirtualMachine vm = NewVm(program, engine, translationThreshold);
        try
        {
            while (vm.State.Executed < maxInstructions)
            {
                StopReason r = vm.RunSlice(10_000).Reason;
                if (r != StopReason.BudgetExhausted)
                {
                    break;
                }
            }
        }
        catch (Exception)
        {
            return null; // a host exception: the lockstep report has it
        }
        return vm.ExitCode;
    }

    private static VirtualMachine NewVm(FuzzProgram program, EngineKind engine, int? translationThreshold) =>
        new(program.Seed.ToString(), program.ToElfImage($"fuzz-{program.Seed}"),
            new MachineConfig { Engine = engine, MemorySize = FuzzLayout.MemorySize, TranslationThreshold = translationThreshold });

    /// <summary>x31 = expected; beq reg, x31, ok; fail with the next code; ok:</summary>
    private static void Compare(ProgramBuilder c, List<string> checks, string name, int reg, uint expected)
    {
        checks.Add(name);
        c.Li(31, expected);
        c.Emit(Opcode.Beq, rs1: reg, rs2: 31, imm: 4 * (FailWords + 1));
        PowerOff(c, checks.Count - 1);
    }

    private static void PowerOff(ProgramBuilder c, int code)
    {
        c.PowerOff(code);
        c.Spin();
    }

    /// <summary>x3 = h over [start, end) with h = h * 31 + word; then compare x3.</summary>
    private static void Checksum(ProgramBuilder c, List<string> checks, string name, uint start, uint end, uint expected)
    {
        c.Li(1, start);
        c.Li(2, end);
        c.Emit(Opcode.Addi, 3, 0, imm: 0);
        c.Emit(Opcode.Lw, 4, 1, imm: 0);
        c.Emit(Opcode.Slli, 5, 3, imm: 5);
        c.Emit(Opcode.Sub, 3, 5, 3);
        c.Emit(Opcode.Add, 3, 3, 4);
        c.Emit(Opcode.Addi, 1, 1, imm: 4);
        c.Emit(Opcode.Bne, rs1: 1, rs2: 2, imm: -20);
        Compare(c, checks, name, 3, expected);
    }

    private static uint ChecksumOf(VirtualMachine vm, uint start, uint end)
    {
        byte[] bytes = new byte[end - start];
        vm.Ram.ReadBytes(start - vm.Ram.Base, bytes);
        uint h = 0;
        for (int i = 0; i < bytes.Length; i += 4)
        {
            h = h * 31 + BitConverter.ToUInt32(bytes, i);
        }
        return h;
    }
}
