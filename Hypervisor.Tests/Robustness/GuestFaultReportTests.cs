using Hypervisor.Isa;
using Hypervisor.Loading;
using Hypervisor.Machine;

namespace Hypervisor.Tests.Robustness;

/// <summary>A guest that can only loop in its trap handler is stopped with a report that says where it went wrong.</summary>
public sealed class GuestFaultReportTests
{
    private const int T0 = 5, T1 = 6, Sp = 2;

    /// <summary>mtvec = 0 and a jump to 0x4000_0000: the fetch faults, and so does the handler's first fetch.</summary>
    private static uint[] WildJump()
    {
        var p = new ProgramBuilder();
        p.Li(T0, 0).Emit(Opcode.Csrrw, 0, T0, imm: 0x305);
        p.Li(T0, 0x4000_0000).Emit(Opcode.Jalr, 0, T0, imm: 0);
        return [.. p.Words];
    }

    /// <summary>
    /// A handler that runs a few instructions and then stores to its "stack" outside RAM: the
    /// store faults, the handler is entered again, and nothing ever changes.
    /// </summary>
    private static uint[] HandlerFaultingLater()
    {
        var p = new ProgramBuilder();
        int fix = p.Words.Count;
        p.Li(T0, 0).Emit(Opcode.Csrrw, 0, T0, imm: 0x305);      // mtvec = handler (fixed below)
        p.Emit(Opcode.Ecall);                                     // into the handler
        uint handler = p.Here;
        p.Li(Sp, 0x7000_0000);                                    // a stack below RAM
        p.Emit(Opcode.Addi, T1, 0, imm: 1);
        p.Emit(Opcode.Sw, rs1: Sp, rs2: T1, imm: -4);             // store access fault, every time
        p.Spin();
        uint[] words = [.. p.Words];
        (int hi, int lo) = Encoder.SplitConstant(handler);
        words[fix] = Encoder.Encode(Opcode.Lui, T0, imm: hi);
        words[fix + 1] = Encoder.Encode(Opcode.Addi, T0, T0, imm: lo);
        return words;
    }

    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public void A_trap_loop_report_names_the_jump_that_started_it(EngineKind engine)
    {
        var vm = new VirtualMachine("wild", ElfImage.Parse("wild", ElfWriter.Build(WildJump())), new MachineConfig { Engine = engine, MemorySize = 64u << 10 });

        RunSummary s = new GuestRunner(vm).Run(1_000_000);

        Assert.Equal(RunEnd.GuestFault, s.End);
        Assert.Contains("trap loop", s.Fault!.Message);
        Assert.Contains("entered for InstructionAccessFault at pc=0x40000000", s.Fault.Message);
    }

    [Theory]
    [MemberData(nameof(RobustFleet.Engines), MemberType = typeof(RobustFleet))]
    public void A_handler_that_faults_again_without_progress_is_stopped_with_a_report(EngineKind engine)
    {
        var vm = new VirtualMachine("stuck", ElfImage.Parse("stuck", ElfWriter.Build(HandlerFaultingLater())), new MachineConfig { Engine = engine, MemorySize = 64u << 10 });

        RunSummary s = new GuestRunner(vm).Run(100_000_000);

        Assert.Equal(RunEnd.GuestFault, s.End);
        Assert.StartsWith("no progress", s.Fault!.Message);
        Assert.Equal((uint)Cpu.ExceptionCause.StoreAccessFault, s.Fault.Cause);
        Assert.Equal(0x7000_0000u - 4, s.Fault.Tval);
        Assert.InRange(s.Instret, (ulong)Cpu.Hart.RepeatLimit, (ulong)Cpu.Hart.RepeatLimit * 5); // a few instructions per round
    }
}
