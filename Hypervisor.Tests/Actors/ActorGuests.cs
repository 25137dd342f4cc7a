using Hypervisor.Cpu;
using Hypervisor.Engines;
using Hypervisor.Isa;
using Hypervisor.Tests.Support;

namespace Hypervisor.Tests.Actors;

/// <summary>Hand-assembled guests for the actor protocols: waiting for PLIC interrupts or a timer, spinning forever.</summary>
public static class ActorGuests
{
    private const int T0 = 5, T1 = 6, T2 = 7, S1 = 9;

    /// <summary>
    /// Enables PLIC <paramref name="source"/> for M mode and sleeps in WFI; the handler claims,
    /// waits a dozen instructions (so a one-tick pulse has ended), completes, and after
    /// <paramref name="count"/> interrupts powers off failing with the claimed source as its code.
    /// </summary>
    public static string WaitForPlic(int source, int count)
    {
        var p = new ProgramBuilder();
        int handlerFixup = p.Words.Count;
        p.Li(T0, 0); // patched below: t0 = handler
        p.Emit(Opcode.Csrrw, 0, T0, imm: CsrAddress.Mtvec);
        p.StoreWord(0x0C00_0000u + 4u * (uint)source, 1);                               // priority
        p.StoreWord(0x0C00_2000u + 4u * (uint)(source / 32), 1u << (source % 32));      // enable, context 0 (M)
        p.StoreWord(0x0C20_0000u, 0);                                                   // threshold
        p.Li(T0, InterruptBits.Meip);
        p.Emit(Opcode.Csrrw, 0, T0, imm: CsrAddress.Mie);
        p.Emit(Opcode.Csrrsi, 0, 8, imm: CsrAddress.Mstatus);                          // mstatus.MIE
        p.Emit(Opcode.Addi, S1, 0, imm: 0);
        uint loop = p.Here;
        p.Emit(Opcode.Wfi);
        p.Emit(Opcode.Jal, 0, imm: (int)(loop - p.Here));
        uint handler = p.Here;
        p.Li(T0, 0x0C20_0004);
        p.Emit(Opcode.Lw, T1, T0, imm: 0);                                             // claim
        for (int i = 0; i < 12; i++)
        {
            p.Emit(Opcode.Addi, 0, 0, imm: 0);
        }
        p.Emit(Opcode.Sw, rs1: T0, rs2: T1, imm: 0);                                   // complete
        p.Emit(Opcode.Addi, S1, S1, imm: 1);
        p.Emit(Opcode.Addi, T2, 0, imm: count);
        int branch = p.Words.Count;
        p.Emit(Opcode.Beq, rs1: S1, rs2: T2, imm: 8);                                  // done? skip the mret
        p.Emit(Opcode.Mret);
        p.Emit(Opcode.Slli, T1, T1, imm: 16);
        p.Li(T2, 0x3333);
        p.Emit(Opcode.Or, T1, T1, T2);
        p.Li(T0, 0x0010_0000);
        p.Emit(Opcode.Sw, rs1: T0, rs2: T1, imm: 0);
        p.Spin();
        _ = branch;
        var words = p.Words.ToArray();
        (int hi, int lo) = Encoder.SplitConstant(handler);
        words[handlerFixup] = Encoder.Encode(Opcode.Lui, T0, imm: hi);
        words[handlerFixup + 1] = Encoder.Encode(Opcode.Addi, T0, T0, imm: lo);
        return TinyGuests.Write($"plic{source}x{count}", words);
    }

    /// <summary>Arms mtimecmp = <paramref name="ticks"/>, sleeps in WFI, and powers off with success from the timer interrupt.</summary>
    public static string TimerThenPowerOff(uint ticks)
    {
        var p = new ProgramBuilder();
        int fixup = p.Words.Count;
        p.Li(T0, 0);
        p.Emit(Opcode.Csrrw, 0, T0, imm: CsrAddress.Mtvec);
        p.StoreWord(0x0200_4004, 0);
        p.StoreWord(0x0200_4000, ticks);
        p.Li(T0, InterruptBits.Mtip);
        p.Emit(Opcode.Csrrw, 0, T0, imm: CsrAddress.Mie);
        p.Emit(Opcode.Csrrsi, 0, 8, imm: CsrAddress.Mstatus);
        uint loop = p.Here;
        p.Emit(Opcode.Wfi);
        p.Emit(Opcode.Jal, 0, imm: (int)(loop - p.Here));
        uint handler = p.Here;
        p.PowerOff(0);
        p.Spin();
        var words = p.Words.ToArray();
        (int hi, int lo) = Encoder.SplitConstant(handler);
        words[fixup] = Encoder.Encode(Opcode.Lui, T0, imm: hi);
        words[fixup + 1] = Encoder.Encode(Opcode.Addi, T0, T0, imm: lo);
        return TinyGuests.Write($"timer{ticks}", words);
    }

    /// <summary>An endless loop: CPU-bound forever.</summary>
    public static string Spinner() => TinyGuests.Write("spin", new ProgramBuilder().Emit(Opcode.Addi, 10, 10, imm: 1).Emit(Opcode.Jal, 0, imm: -4).Words);

    public static string FailWith(int code) => TinyGuests.Write($"fail{code}", TinyGuests.FinisherFail(code));

    public static string WildJump() => TinyGuests.Write("wild", TinyGuests.JumpTo(0x4000_0000));
}

/// <summary>An engine that throws a host exception on its N-th call to Run (the fault a buggy engine would raise).</summary>
public sealed class ThrowingEngine(IExecutionEngine inner, int throwOnCall) : IExecutionEngine
{
    private int _calls;

    public string Name => inner.Name;

    public EngineStatistics Statistics => inner.Statistics;

    public void FlushCode() => inner.FlushCode();

    public StopReason Run(ulong budget)
    {
        if (++_calls == throwOnCall)
        {
            throw new InvalidOperationException("injected engine failure");
        }
        return inner.Run(budget);
    }
}
