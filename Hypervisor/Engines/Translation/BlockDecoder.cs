using Hypervisor.Isa;
using Hypervisor.Memory;

namespace Hypervisor.Engines.Translation;

/// <summary>Finds the instructions of a block: the region of code reachable from its start within its page.</summary>
/// <remarks>
/// From the start, both edges of conditional branches and the targets of direct jumps and calls
/// are followed, breadth first, as long as they stay in the start's 4 KiB page, up to a size cap;
/// after a call, so is its return point, which the callee's return reaches inside the region
/// (the compiler's return prediction). Code below the start is taken only through a backward
/// edge (the rest of a loop around the start). A path stops where another region of the same page
/// starts: it becomes an exit that chains into that region, so the
/// same code is not compiled twice. Code that has run (the interpreter
/// decoded it while the region warmed up) is taken first, breadth first; code that
/// never ran fills what the cap leaves, so a function's hot path is not cut off by its cold branches.
/// Paths end at indirect jumps and at callouts that always leave the block (system instructions
/// other than CSR accesses, illegal encodings); CSR instructions and atomics may carry on.
/// The compiler turns edges inside the region into branches inside one method — so loops, with
/// their if-then-else bodies, run without returning to the dispatcher — and edges that leave
/// the region into exits. Staying inside one page keeps self-modifying-code invalidation and page
/// remapping simple: the block's key names the one physical page all its code comes from.
/// </remarks>
public static class BlockDecoder
{
    /// <summary>Decodes the region at virtual <paramref name="virtualPc"/> / physical <paramref name="physicalPc"/> into <paramref name="region"/>, sorted by pc; <paramref name="isEntry"/> names the virtual pcs where other regions start, <paramref name="wasExecuted"/> the code that has run.</summary>
    public static void Decode(GuestRam ram, uint virtualPc, uint physicalPc, int maxLength, List<TraceInstruction> region, Func<uint, bool>? isEntry = null, Func<uint, bool>? wasExecuted = null)
    {
        region.Clear();
        uint pageBase = virtualPc & ~0xFFFu;
        uint physicalBase = physicalPc & ~0xFFFu;
        var seen = new HashSet<uint>();
        var work = new Queue<uint>();
        var cold = new Queue<uint>();
        work.Enqueue(virtualPc);
        seen.Add(virtualPc);
        while ((work.Count > 0 || cold.Count > 0) && region.Count < maxLength)
        {
            uint pc = work.Count > 0 ? work.Dequeue() : cold.Dequeue();
            uint word = ram.Read(physicalBase + (pc & 0xFFF) - ram.Base, 4);
            Instruction i = Decoder.Decode(word);
            region.Add(new TraceInstruction(pc, i));
            if ((BlockCompiler.IsCallout(i.Op) && !BlockRuntime.MayCarryOn(i.Op)) || i.Op == Opcode.Jalr)
            {
                continue;
            }
            if (i.Op == Opcode.Jal)
            {
                Visit(pc + (uint)i.Imm, pc);
                if (i.Rd != 0 && seen.Contains(pc + (uint)i.Imm))
                {
                    // A call into this region: its return point joins the region too, reached from
                    // the callee's return through a compare (BlockCompiler's return prediction). A
                    // callee elsewhere returns through the dispatcher, to a region of its own.
                    Visit(pc + 4, pc);
                }
                continue;
            }
            if (i.Op is >= Opcode.Beq and <= Opcode.Bgeu)
            {
                Visit(pc + 4, pc);
                Visit(pc + (uint)i.Imm, pc);
                continue;
            }
            Visit(pc + 4, pc);
        }
        region.Sort((a, b) => a.Pc.CompareTo(b.Pc));

        // Below the start only along a backward edge (a loop around the start) and onwards from
        // there, so that the loop runs inside this one region instead of going back and forth
        // between two regions, one headed at the loop's top and one at the place it first got hot.
        void Visit(uint target, uint from)
        {
            if ((target & 3) == 0 && (target & ~0xFFFu) == pageBase && (target >= virtualPc || target < from || from < virtualPc) &&
                !(isEntry is not null && isEntry(target)) && seen.Add(target))
            {
                if (wasExecuted is null || wasExecuted(target))
                {
                    work.Enqueue(target);
                }
                else
                {
                    cold.Enqueue(target); // never run yet: only if the cap leaves room once the code that ran is in
                }
            }
        }
    }
}
