using Hypervisor.Isa;

namespace Hypervisor.Fuzzing;

/// <summary>
/// Reduces a failing program to a minimal one that still fails: delta debugging over its
/// instructions, replacing them with NOPs (which keeps every offset valid), then deleting the NOPs
/// where that still fails (branch and jump offsets are relocated; the trap handler and the data page
/// sit at fixed addresses, so they do not move).
/// </summary>
public sealed class Shrinker
{
    private readonly Func<FuzzProgram, bool> _stillFails;
    private int _tests;

    /// <param name="stillFails">True when the candidate still shows the failure (e.g. the lockstep run still diverges).</param>
    /// <param name="maxTests">Most candidates to try; shrinking stops with the smallest failing program so far.</param>
    public Shrinker(Func<FuzzProgram, bool> stillFails, int maxTests = 5000)
    {
        _stillFails = stillFails;
        MaxTests = maxTests;
    }

    public int MaxTests { get; }

    /// <summary>Candidates tried by the last <see cref="Shrink"/>.</summary>
    public int Tests => _tests;

    public FuzzProgram Shrink(FuzzProgram program)
    {
        _tests = 0;
        // Phase 1: ddmin over live words (code and handler), each removal a NOP replacement.
        int codeLength = program.Code.Length;
        uint[] all = [.. program.Code, .. program.Handler];
        List<int> live = Enumerable.Range(0, all.Length).Where(i => all[i] != FuzzLayout.Nop).ToList();
        FuzzProgram Keep(List<int> kept)
        {
            uint[] words = Enumerable.Repeat(FuzzLayout.Nop, all.Length).ToArray();
            foreach (int i in kept)
            {
                words[i] = all[i];
            }
            return program with { Code = words[..codeLength], Handler = words[codeLength..] };
        }
        int n = 2;
        if (live.Count > 0 && Test(Keep([])))
        {
            live = [];
        }
        while (live.Count > 0 && _tests < MaxTests)
        {
            int chunk = (live.Count + n - 1) / n;
            bool reduced = false;
            for (int start = 0; start < live.Count && _tests < MaxTests; start += chunk)
            {
                List<int> candidate = [.. live[..start], .. live[Math.Min(start + chunk, live.Count)..]];
                if (Test(Keep(candidate)))
                {
                    live = candidate;
                    n = Math.Max(n - 1, 2);
                    reduced = true;
                    break;
                }
            }
            if (!reduced)
            {
                if (chunk == 1)
                {
                    break;
                }
                n = Math.Min(n * 2, live.Count);
            }
        }
        FuzzProgram best = Keep(live);

        // Phase 2: delete NOPs from the code: all at once, else the trailing ones, else run by run.
        best = TryDelete(best, w => w == FuzzLayout.Nop) ?? best;
        if (best.Code.Contains(FuzzLayout.Nop))
        {
            int end = best.Code.Length;
            while (end > 0 && best.Code[end - 1] == FuzzLayout.Nop)
            {
                end--;
            }
            if (end < best.Code.Length && Test(best with { Code = best.Code[..end] }))
            {
                best = best with { Code = best.Code[..end] };
            }
            for (int i = best.Code.Length - 1; i >= 0 && _tests < MaxTests; i--)
            {
                if (best.Code[i] != FuzzLayout.Nop)
                {
                    continue;
                }
                int runStart = i;
                while (runStart > 0 && best.Code[runStart - 1] == FuzzLayout.Nop)
                {
                    runStart--;
                }
                var remove = new HashSet<int>(Enumerable.Range(runStart, i - runStart + 1));
                uint[]? code = Delete(best.Code, remove);
                if (code is not null && Test(best with { Code = code }))
                {
                    best = best with { Code = code };
                }
                i = runStart;
            }
        }
        return best;
    }

    private bool Test(FuzzProgram candidate)
    {
        _tests++;
        return _stillFails(candidate);
    }

    private FuzzProgram? TryDelete(FuzzProgram p, Func<uint, bool> drop)
    {
        var remove = new HashSet<int>(Enumerable.Range(0, p.Code.Length).Where(i => drop(p.Code[i])));
        if (remove.Count == 0)
        {
            return null;
        }
        uint[]? code = Delete(p.Code, remove);
        return code is not null && Test(p with { Code = code }) ? p with { Code = code } : null;
    }

    /// <summary>
    /// Deletes the words at <paramref name="remove"/> and relocates branches and JALs whose target
    /// moves (a target that is deleted becomes the next word kept). Null when an offset no longer fits.
    /// </summary>
    public static uint[]? Delete(uint[] code, ISet<int> remove)
    {
        int[] newIndex = new int[code.Length + 1];
        int next = 0;
        for (int i = 0; i < code.Length; i++)
        {
            newIndex[i] = next;
            if (!remove.Contains(i))
            {
                next++;
            }
        }
        newIndex[code.Length] = next;
        var result = new uint[next];
        for (int i = 0; i < code.Length; i++)
        {
            if (remove.Contains(i))
            {
                continue;
            }
            uint word = code[i];
            Instruction ins = Decoder.Decode(word);
            if (ins.Op is Opcode.Jal or (>= Opcode.Beq and <= Opcode.Bgeu) && (ins.Imm & 3) == 0)
            {
                long target = i + ins.Imm / 4;
                if (target >= 0 && target <= code.Length)
                {
                    int offset = (newIndex[target] - newIndex[i]) * 4;
                    bool fits = ins.Op == Opcode.Jal ? offset is >= -(1 << 20) and < 1 << 20 : offset is >= -4096 and < 4096;
                    if (!fits)
                    {
                        return null;
                    }
                    word = Encoder.Encode(ins.Op, ins.Rd, ins.Rs1, ins.Rs2, offset);
                }
            }
            result[newIndex[i]] = word;
        }
        return result;
    }
}
