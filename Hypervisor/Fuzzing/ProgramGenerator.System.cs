using Hypervisor.Cpu;
using Hypervisor.Isa;

namespace Hypervisor.Fuzzing;

/// <summary>
/// The system families of the generator (<see cref="FuzzFeatures.System"/>): privileged CSRs, segments
/// entered by MRET and SRET, trap delegation to an S-mode handler, and Sv32 page tables the program
/// builds itself.
/// </summary>
/// <remarks>
/// <para>
/// A <b>segment</b> runs a nested run of items in U, S or M mode: <c>jal x30, +8</c> makes x30 (the
/// escape register) point at a stub that jumps past the segment; mepc (or sepc, from an S segment)
/// is pointed at the segment's first item and MPP (SPP) at its mode; MRET (SRET) enters it; it ends
/// with ECALL. The machine handler sends every ECALL from S or U and every instruction fetch fault to
/// x30 in M mode ("escapes"), so a segment ends at its ECALL, or earlier when it jumps somewhere it
/// cannot fetch from; any other exception is skipped (mepc + 4) and the segment carries on in its
/// mode. After a segment the code runs in M, and x30 is pointed at the enclosing segment's stub (or
/// at the epilogue): escapes only ever jump forward, so every program still terminates.
/// </para>
/// <para>
/// <b>Delegation</b>: medeleg may delegate misaligned, illegal-instruction, breakpoint, load/store
/// access and page faults (never fetch faults or ECALLs, which must escape to M) and mideleg the S
/// interrupts; the S handler at <see cref="FuzzLayout.SHandlerBase"/> skips a delegated exception
/// (sepc + 4, SRET) and answers an interrupt by clearing sie. It uses x29; the M handler uses x31.
/// </para>
/// <para>
/// <b>Sv32</b>: the prologue builds a root table at <see cref="FuzzLayout.PageTableRoot"/> with an
/// identity superpage over RAM at 0x8000_0000 for S (U clear: the S handler must stay fetchable in S
/// whether paging is on or not), an alias superpage of RAM at 0x4000_0000 with U set, where U
/// segments run while paging is on, and a 4 KiB window at
/// 0x0040_0000 through the level-0 table at <see cref="FuzzLayout.PageTableL0"/> (code pages, the
/// data page, a scratch page, the root table read-only, the UART, nothing), and turns satp on.
/// Items rewrite window entries (always followed by SFENCE.VMA: without it which translation is
/// used is the implementation's choice), access and jump through the mappings, toggle satp and
/// issue SFENCE.VMA. No writable mapping reaches a page table, so page tables change only by
/// stores that are fenced.
/// </para>
/// </remarks>
public sealed partial class ProgramGenerator
{
    /// <summary>The register the S-mode handler uses (system programs); no generated instruction writes it.</summary>
    public const int SHandlerRegister = 29;

    /// <summary>Where an escape (a segment's ECALL, a fetch fault) continues, in M mode (system programs).</summary>
    public const int EscapeRegister = 30;

    /// <summary>Exceptions medeleg may delegate: misaligned (0, 4, 6), illegal (2), breakpoint (3), access (5, 7) and page (13, 15) faults.</summary>
    public const uint DelegableExceptions = 1u << 0 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 13 | 1u << 15;

    /// <summary>The S interrupts mideleg may delegate.</summary>
    public const uint DelegableInterrupts = InterruptBits.Ssip | InterruptBits.Stip | InterruptBits.Seip;

    private const uint PteV = 1, PteR = 2, PteW = 4, PteX = 8, PteU = 16, PteG = 32, PteA = 64, PteD = 128;

    /// <summary>
    /// The trap handlers of system programs: the M handler at <see cref="FuzzLayout.HandlerBase"/>
    /// (interrupt: mie = 0; ECALL from S/U or a fetch fault: escape to x30 in M; otherwise skip) and
    /// the S handler at <see cref="FuzzLayout.SHandlerBase"/> (interrupt: sie = 0; otherwise skip).
    /// </summary>
    public static uint[] SystemTrapHandler()
    {
        const int t = HandlerRegister, s = SHandlerRegister;
        var p = new ProgramBuilder(FuzzLayout.HandlerBase);
        p.Emit(Opcode.Csrrs, t, 0, imm: CsrAddress.Mcause);      //  0
        p.Emit(Opcode.Blt, rs1: t, rs2: 0, imm: 13 * 4);          //  1 → 14: an interrupt
        p.Emit(Opcode.Addi, t, t, imm: -12);                      //  2
        p.Emit(Opcode.Beq, rs1: t, rs2: 0, imm: 13 * 4);          //  3 → 16: instruction page fault
        p.Emit(Opcode.Addi, t, t, imm: 3);                        //  4
        p.Emit(Opcode.Beq, rs1: t, rs2: 0, imm: 11 * 4);          //  5 → 16: ECALL from S
        p.Emit(Opcode.Addi, t, t, imm: 1);                        //  6
        p.Emit(Opcode.Beq, rs1: t, rs2: 0, imm: 9 * 4);           //  7 → 16: ECALL from U
        p.Emit(Opcode.Addi, t, t, imm: 7);                        //  8
        p.Emit(Opcode.Beq, rs1: t, rs2: 0, imm: 7 * 4);           //  9 → 16: instruction access fault
        p.Emit(Opcode.Csrrs, t, 0, imm: CsrAddress.Mepc);         // 10: skip the instruction
        p.Emit(Opcode.Addi, t, t, imm: 4);                        // 11
        p.Emit(Opcode.Csrrw, 0, t, imm: CsrAddress.Mepc);         // 12
        p.Emit(Opcode.Mret);                                      // 13
        p.Emit(Opcode.Csrrw, 0, 0, imm: CsrAddress.Mie);          // 14: interrupt: mie = 0, back
        p.Emit(Opcode.Mret);                                      // 15
        p.Emit(Opcode.Csrrw, 0, EscapeRegister, imm: CsrAddress.Mepc); // 16: escape to x30 ...
        p.Emit(Opcode.Lui, t, imm: 0x2000);
        p.Emit(Opcode.Addi, t, t, imm: -0x800);
        p.Emit(Opcode.Csrrs, 0, t, imm: CsrAddress.Mstatus);      // ... in M (MPP = M)
        p.Emit(Opcode.Mret);
        while (p.Here < FuzzLayout.SHandlerBase)
        {
            p.Emit(Opcode.Nop);
        }
        p.Emit(Opcode.Csrrs, s, 0, imm: CsrAddress.Scause);
        p.Emit(Opcode.Blt, rs1: s, rs2: 0, imm: 5 * 4);           // → an interrupt
        p.Emit(Opcode.Csrrs, s, 0, imm: CsrAddress.Sepc);
        p.Emit(Opcode.Addi, s, s, imm: 4);
        p.Emit(Opcode.Csrrw, 0, s, imm: CsrAddress.Sepc);
        p.Emit(Opcode.Sret);
        p.Emit(Opcode.Csrrw, 0, 0, imm: CsrAddress.Sie);
        p.Emit(Opcode.Sret);
        return [.. p.Words];
    }

    /// <summary>S and M CSRs the privileged family reads and writes, with the bits a write may set.</summary>
    private static readonly (int Csr, uint Mask)[] SystemCsrs =
    [
        (CsrAddress.Sstatus, Mstatus.Sie | Mstatus.Spie | Mstatus.Spp | Mstatus.Sum | Mstatus.Mxr),
        (CsrAddress.Sie, DelegableInterrupts), (CsrAddress.Sip, InterruptBits.Ssip),
        (CsrAddress.Sscratch, ~0u), (CsrAddress.Sepc, ~0u), (CsrAddress.Scause, ~0u), (CsrAddress.Stval, ~0u),
        (CsrAddress.Scounteren, 7), (CsrAddress.Senvcfg, ~0u),
        (CsrAddress.Mstatus, Mstatus.Sie | Mstatus.Mie | Mstatus.Spie | Mstatus.Mpie | Mstatus.Spp |
                             Mstatus.Mpp | Mstatus.Sum | Mstatus.Mxr | Mstatus.Tvm | Mstatus.Tw),
        (CsrAddress.Mie, 0xAAA), (CsrAddress.Mip, DelegableInterrupts),
        (CsrAddress.Mscratch, ~0u), (CsrAddress.Mepc, ~0u), (CsrAddress.Mcause, ~0u), (CsrAddress.Mtval, ~0u),
        (CsrAddress.Mcounteren, 7), (CsrAddress.Menvcfg, ~0u), (CsrAddress.Medeleg, DelegableExceptions),
        (CsrAddress.Mideleg, DelegableInterrupts), (CsrAddress.Misa, ~0u), (CsrAddress.Mstatush, ~0u),
    ];

    /// <summary>CSRs the privileged family only reads.</summary>
    private static readonly int[] ReadOnlyCsrs =
    [
        CsrAddress.Mvendorid, CsrAddress.Marchid, CsrAddress.Mimpid, CsrAddress.Mhartid, CsrAddress.Mconfigptr,
        CsrAddress.Satp, CsrAddress.Stvec, CsrAddress.Mtvec, CsrAddress.Pmpcfg0, CsrAddress.Pmpaddr0, CsrAddress.Pmpaddr0 + 3,
    ];

    /// <summary>Pages the 4 KiB window at <see cref="FuzzLayout.MappedWindow"/> (and PMP entries) may point at.</summary>
    private static readonly uint[] WindowTargets =
    [
        FuzzLayout.CodeBase, FuzzLayout.CodeBase + 0x1000, FuzzLayout.CodeBase + 0x2000, FuzzLayout.DataBase,
        FuzzLayout.ScratchPage, FuzzLayout.PageTableRoot, 0x1000_0000, 0x0000_1000,
    ];

    private sealed partial class Builder
    {
        private bool _system;
        private bool _paging;           // the prologue built page tables (and left satp on)
        private Privilege _mode = Privilege.Machine;
        private readonly List<List<int>> _escapeFixups = [[]];

        private static void AddSystemItems(FuzzFeatures f, List<(Item, int)> menu)
        {
            void Add(FuzzFeatures feature, Item item, int weight)
            {
                if ((f & feature) != 0)
                {
                    menu.Add((item, weight));
                }
            }
            Add(FuzzFeatures.Privileged, Item.Segment, 4);
            Add(FuzzFeatures.Privileged, Item.CsrAccess, 5);
            Add(FuzzFeatures.Privileged, Item.PmpWrite, 1);
            Add(FuzzFeatures.Delegation, Item.Segment, 2);
            Add(FuzzFeatures.Delegation, Item.DelegationWrite, 1);
            Add(FuzzFeatures.Delegation, Item.SupervisorInterrupt, 2);
            Add(FuzzFeatures.Sv32, Item.Segment, 2);
            Add(FuzzFeatures.Sv32, Item.PteWrite, 2);
            Add(FuzzFeatures.Sv32, Item.MappedAccess, 3);
            Add(FuzzFeatures.Sv32, Item.AliasJump, 1);
            Add(FuzzFeatures.Sv32, Item.SatpWrite, 1);
            Add(FuzzFeatures.Sv32, Item.Sfence, 1);
        }

        /// <summary>The system items; false when <paramref name="item"/> is not one (or cannot be used here).</summary>
        private bool SystemItem(Item item, int depth)
        {
            _ = depth;
            if (!_system)
            {
                return false;
            }
            switch (item)
            {
                case Item.CsrAccess: CsrAccess(); return true;
                case Item.PmpWrite: PmpWrite(); return true;
                case Item.DelegationWrite: DelegationWrite(); return true;
                case Item.SupervisorInterrupt: SupervisorInterrupt(); return true;
                case Item.PteWrite when _paging: PteWrite(); return true;
                case Item.MappedAccess when _paging: MappedAccess(); return true;
                case Item.AliasJump when _paging && _mode != Privilege.Machine: AliasJump(); return true;
                case Item.SatpWrite when _paging: SatpWrite(); return true;
                case Item.Sfence: Sfence(); return true;
                default: return false;
            }
        }

        /// <summary>stvec, PMP entry 15 open to S and U, counter enables, delegation, and whether to page.</summary>
        private void SystemPrologue()
        {
            Li(5, FuzzLayout.SHandlerBase);
            Emit(Opcode.Csrrw, 0, 5, imm: CsrAddress.Stvec);
            Emit(Opcode.Addi, 5, 0, imm: -1);
            Emit(Opcode.Csrrw, 0, 5, imm: CsrAddress.Pmpaddr0 + 15);   // NAPOT over the whole space ...
            Li(5, 0x1F00_0000);
            Emit(Opcode.Csrrw, 0, 5, imm: CsrAddress.Pmpcfg0 + 3);     // ... RWX, lowest priority (entry 15)
            if (Has(FuzzFeatures.Counters))
            {
                Emit(Opcode.Csrrwi, 0, _r.Next(8), imm: CsrAddress.Mcounteren);
                Emit(Opcode.Csrrwi, 0, _r.Next(8), imm: CsrAddress.Scounteren);
            }
            if (Has(FuzzFeatures.Delegation))
            {
                Li(5, DelegableExceptions & (uint)_r.NextInt64(0, 1L << 32));
                Emit(Opcode.Csrrw, 0, 5, imm: CsrAddress.Medeleg);
                Li(5, DelegableInterrupts & (uint)_r.Next());
                Emit(Opcode.Csrrw, 0, 5, imm: CsrAddress.Mideleg);
            }
            _paging = Has(FuzzFeatures.Sv32) && _r.Next(3) != 0;
        }

        /// <summary><c>jal x30, +8; jal x0, (patched)</c>: x30 = the stub, which jumps to the end of the enclosing segment (or the epilogue).</summary>
        private void EscapeStub()
        {
            Emit(Opcode.Jal, EscapeRegister, imm: 8);
            _escapeFixups[^1].Add(Here);
            _w.Add(0);
        }

        /// <summary>Points the escape stubs of the innermost level at the next word.</summary>
        private void PatchEscapes()
        {
            foreach (int at in _escapeFixups[^1])
            {
                _w[at] = Encoder.Encode(Opcode.Jal, 0, imm: (Here - at) * 4);
            }
            _escapeFixups[^1].Clear();
        }

        /// <summary>
        /// A segment: from M, MRET into U, S or M; from S, SRET into U or S. Code runs at the identity
        /// address, or, in U while paging is on, at the alias (the identity superpage is not a U page).
        /// </summary>
        private void SegmentItem(int depth)
        {
            bool fromS = _mode == Privilege.Supervisor;
            Privilege target = _r.Next(fromS ? 2 : 9) switch
            {
                0 => Privilege.Supervisor,
                1 => Privilege.User,
                < 5 when Has(FuzzFeatures.Privileged | FuzzFeatures.Delegation | FuzzFeatures.Sv32) => Privilege.Supervisor,
                8 => Privilege.Machine,
                _ => Privilege.User,
            };
            EscapeStub();
            uint saved = _forbidden;
            int t = Dest(allowZero: false);
            _forbidden |= 1u << t;
            int d = Dest(allowZero: false);
            _forbidden = saved;
            bool alias = _paging && target == Privilege.User;

            int at = Here;
            Emit(Opcode.Auipc, t, imm: 0);
            int offsetAt = Here;
            _w.Add(0); // addi t, t, (segment - at) * 4
            if (alias)
            {
                Li(d, unchecked(FuzzLayout.AliasBase - FuzzLayout.CodeBase));
                Emit(Opcode.Add, t, t, d);
            }
            Emit(Opcode.Csrrw, 0, t, imm: fromS ? CsrAddress.Sepc : CsrAddress.Mepc);
            if (fromS)
            {
                Li(t, Mstatus.Spp);
                Emit(target == Privilege.Supervisor ? Opcode.Csrrs : Opcode.Csrrc, 0, t, imm: CsrAddress.Sstatus);
                Emit(Opcode.Sret);
            }
            else
            {
                Li(t, Mstatus.Mpp);
                Emit(Opcode.Csrrc, 0, t, imm: CsrAddress.Mstatus);
                if (target != Privilege.User)
                {
                    Li(t, target == Privilege.Supervisor ? 1u << Mstatus.MppShift : Mstatus.Mpp);
                    Emit(Opcode.Csrrs, 0, t, imm: CsrAddress.Mstatus);
                }
                Emit(Opcode.Mret);
            }
            _w[offsetAt] = Encoder.Encode(Opcode.Addi, t, t, imm: (Here - at) * 4);

            _mode = target;
            _escapeFixups.Add([]);
            Segment(2 + _r.Next(7), depth + 1);
            Emit(Opcode.Ecall);
            PatchEscapes();                 // this segment's stubs: here
            _escapeFixups.RemoveAt(_escapeFixups.Count - 1);
            _mode = Privilege.Machine;      // an ECALL from S or U escapes to M; from M it is skipped
            EscapeStub();                   // x30 back to the enclosing level's end
        }

        /// <summary>A read, write, set or clear of an S or M CSR (write values within the CSR's mask), or a read of a read-only one.</summary>
        private void CsrAccess()
        {
            if (_r.Next(6) == 0)
            {
                Emit(Opcode.Csrrs, Dest(), 0, imm: Pick(ReadOnlyCsrs));
                return;
            }
            (int csr, uint mask) = Pick(SystemCsrs);
            uint value = Value() & mask;
            if (csr == CsrAddress.Mstatus && _r.Next(8) == 0)
            {
                value |= Mstatus.Mprv;
            }
            int rd = _r.Next(3) == 0 ? 0 : Dest();
            switch (_r.Next(5))
            {
                case 0:
                    Emit(Pick([Opcode.Csrrwi, Opcode.Csrrsi, Opcode.Csrrci]), rd, (int)(value & 31), imm: csr);
                    break;
                case 1:
                    Emit(Opcode.Csrrs, rd, 0, imm: csr); // a plain read
                    break;
                default:
                    int v = Dest(allowZero: false);
                    Li(v, value);
                    Emit(Pick([Opcode.Csrrw, Opcode.Csrrs, Opcode.Csrrc]), rd, v, imm: csr);
                    break;
            }
        }

        /// <summary>PMP entry 0..3 (never locked) over a page the program uses: OFF, TOR, NA4 or NAPOT, random R/W/X.</summary>
        private void PmpWrite()
        {
            int entry = _r.Next(4);
            uint page = Pick(WindowTargets) & ~0xFFFu;
            if (page < FuzzLayout.CodeBase)
            {
                page = FuzzLayout.DataBase;
            }
            uint mode = (uint)_r.Next(4); // OFF, TOR, NA4, NAPOT
            uint address = mode switch
            {
                1 => (page + (uint)_r.Next(0, 2) * 0x1000) >> 2,                          // TOR: up to here
                2 => (page + (uint)_r.Next(0, 1024) * 4) >> 2,                            // NA4
                _ => (page >> 2) | ((1u << _r.Next(0, 10)) - 1),                          // NAPOT of 8 B .. 4 KiB
            };
            uint cfg = mode << 3 | (uint)_r.Next(8);
            int a = Dest(allowZero: false);
            Li(a, address);
            Emit(Opcode.Csrrw, 0, a, imm: CsrAddress.Pmpaddr0 + entry);
            Li(a, 0xFFu << (8 * entry));
            Emit(Opcode.Csrrc, 0, a, imm: CsrAddress.Pmpcfg0);
            Li(a, cfg << (8 * entry));
            Emit(Opcode.Csrrs, 0, a, imm: CsrAddress.Pmpcfg0);
        }

        /// <summary>medeleg or mideleg = a random subset of what may be delegated.</summary>
        private void DelegationWrite()
        {
            int v = Dest(allowZero: false);
            bool exceptions = _r.Next(3) != 0;
            Li(v, (exceptions ? DelegableExceptions : DelegableInterrupts) & (uint)_r.NextInt64(0, 1L << 32));
            Emit(_r.Next(3) == 0 ? Opcode.Csrrs : Opcode.Csrrw, 0, v, imm: exceptions ? CsrAddress.Medeleg : CsrAddress.Mideleg);
        }

        /// <summary>An S interrupt made pending by software (mip.SSIP/STIP from M, sip.SSIP from S) and enabled in sie, sometimes with sstatus.SIE.</summary>
        private void SupervisorInterrupt()
        {
            int v = Dest(allowZero: false);
            Li(v, Pick([InterruptBits.Ssip, InterruptBits.Stip, InterruptBits.Ssip | InterruptBits.Stip]));
            Emit(Opcode.Csrrs, 0, v, imm: _mode == Privilege.Machine ? CsrAddress.Mip : CsrAddress.Sip);
            Li(v, DelegableInterrupts & (uint)_r.Next());
            Emit(Opcode.Csrrs, 0, v, imm: CsrAddress.Sie);
            if (_r.Next(2) == 0)
            {
                Emit(Opcode.Csrrsi, 0, 2, imm: CsrAddress.Sstatus);   // SIE
            }
        }

        /// <summary>
        /// The page tables: root[0x200] identity superpage over RAM, root[0x100] its alias for U
        /// code, root[1] pointing at the level-0 table of the 4 KiB window; window entries
        /// over the code pages, the data page, a scratch page, the root table (read-only), the UART
        /// and a hole; then satp = Sv32 with a random ASID.
        /// </summary>
        private void PageTables()
        {
            uint saved = _forbidden;
            int r = Dest(allowZero: false);
            _forbidden |= 1u << r;
            int v = Dest(allowZero: false);
            _forbidden = saved;
            uint global = _r.Next(4) == 0 ? PteG : 0;
            uint ram = (FuzzLayout.CodeBase >> 12) << 10;
            Li(r, FuzzLayout.PageTableRoot + 0x800);
            Li(v, ram | PteV | PteR | PteW | PteX | PteA | PteD | global);
            Emit(Opcode.Sw, rs1: r, rs2: v, imm: 0);                                       // root[0x200]
            Li(v, ram | PteV | PteR | PteW | PteX | PteU | (_r.Next(4) != 0 ? PteA | PteD : 0));
            Emit(Opcode.Sw, rs1: r, rs2: v, imm: (int)(FuzzLayout.AliasBase >> 22) * 4 - 0x800); // root[0x100]
            Li(v, (FuzzLayout.PageTableL0 >> 12) << 10 | PteV);
            Emit(Opcode.Sw, rs1: r, rs2: v, imm: (int)(FuzzLayout.MappedWindow >> 22) * 4 - 0x800); // root[1]
            Li(r, FuzzLayout.PageTableL0);
            for (int k = 0; k < WindowTargets.Length; k++)
            {
                Li(v, WindowPte(k));
                Emit(Opcode.Sw, rs1: r, rs2: v, imm: k * 4);
            }
            Li(v, Satp(_r.Next(512)));
            Emit(Opcode.Csrrw, 0, v, imm: CsrAddress.Satp);
        }

        private static uint Satp(int asid) => 0x8000_0000u | (uint)asid << 22 | FuzzLayout.PageTableRoot >> 12;

        /// <summary>A leaf PTE for window slot <paramref name="k"/>: its usual target with random permissions (the root table never writable).</summary>
        private uint WindowPte(int k)
        {
            uint target = WindowTargets[k];
            uint flags = _r.Next(12) switch
            {
                0 => 0,                                   // invalid
                1 => PteV,                                // a pointer at level 0: a page fault
                2 => PteV | PteW,                         // reserved W without R: a page fault
                3 or 4 => PteV | PteR,
                5 or 6 => PteV | PteR | PteX,
                7 => PteV | PteX,
                _ => PteV | PteR | PteW | (_r.Next(2) == 0 ? PteX : 0),
            };
            if (target == FuzzLayout.PageTableRoot)
            {
                flags &= ~PteW;
                if ((flags & PteR) == 0 && (flags & PteX) == 0 && flags != 0)
                {
                    flags = PteV | PteR;
                }
            }
            flags |= _r.Next(2) == 0 ? PteU : 0;
            flags |= _r.Next(4) == 0 ? PteG : 0;
            flags |= _r.Next(4) != 0 ? PteA : 0;          // A or D clear: hardware updates them
            flags |= _r.Next(2) == 0 ? PteD : 0;
            return (target >> 12) << 10 | flags;
        }

        /// <summary>A window entry rewritten (to its own or another target), then SFENCE.VMA of it or of everything.</summary>
        private void PteWrite()
        {
            int k = _r.Next(WindowTargets.Length);
            int p = Dest(allowZero: false);
            uint saved = _forbidden;
            _forbidden |= 1u << p;
            int v = Dest(allowZero: false);
            _forbidden = saved;
            Li(p, FuzzLayout.PageTableL0 + (uint)k * 4);
            uint pte = WindowPte(_r.Next(4) == 0 ? _r.Next(WindowTargets.Length) : k);
            if ((pte >> 10) == FuzzLayout.PageTableRoot >> 12 || (pte >> 10) == FuzzLayout.PageTableL0 >> 12)
            {
                pte &= ~PteW;
            }
            Li(v, pte);
            Emit(Opcode.Sw, rs1: p, rs2: v, imm: 0);
            if (_r.Next(2) == 0)
            {
                Emit(Opcode.SfenceVma, rs1: 0, rs2: 0);
            }
            else
            {
                Li(p, FuzzLayout.MappedWindow + (uint)k * 0x1000);
                Emit(Opcode.SfenceVma, rs1: p, rs2: 0);
            }
        }

        /// <summary>A load or store through the 4 KiB window (a fault in M without MPRV: the address is a hole).</summary>
        private void MappedAccess()
        {
            int k = _r.Next(WindowTargets.Length);
            uint offset = (uint)_r.Next(0x1000);
            int p = Dest(allowZero: false);
            if (_r.Next(2) == 0)
            {
                (Opcode op, int size) = Pick(LoadOps);
                Li(p, FuzzLayout.MappedWindow + (uint)k * 0x1000 + (offset & ~(uint)(size - 1)));
                Emit(op, Dest(), p, imm: 0);
            }
            else
            {
                (Opcode op, int size) = Pick(StoreOps);
                Li(p, FuzzLayout.MappedWindow + (uint)k * 0x1000 + (offset & ~(uint)(size - 1)));
                Emit(op, rs1: p, rs2: Source(), imm: 0);
            }
        }

        /// <summary>
        /// Jumps to the next instruction through another mapping of the code (the alias superpage or
        /// the window's code pages); where that mapping does not let this mode fetch, the fetch
        /// fault escapes the segment.
        /// </summary>
        private void AliasJump()
        {
            int t = Dest(allowZero: false);
            uint saved = _forbidden;
            _forbidden |= 1u << t;
            int d = Dest(allowZero: false);
            _forbidden = saved;
            uint delta = _r.Next(3) switch
            {
                0 => unchecked(FuzzLayout.AliasBase - FuzzLayout.CodeBase),    // identity → alias superpage
                1 => FuzzLayout.CodeBase - FuzzLayout.AliasBase,               // alias → identity
                _ => unchecked(FuzzLayout.MappedWindow - FuzzLayout.CodeBase), // identity → the window's code pages
            };
            Emit(Opcode.Auipc, t, imm: 0);
            Li(d, delta);
            Emit(Opcode.Add, t, t, d);
            Emit(Opcode.Jalr, 0, t, imm: 5 * 4);                       // the instruction after this one
        }

        /// <summary>satp = Sv32 with another ASID, or Bare (and back, later).</summary>
        private void SatpWrite()
        {
            int v = Dest(allowZero: false);
            if (_r.Next(4) == 0)
            {
                Emit(Opcode.Csrrw, Dest(), 0, imm: CsrAddress.Satp);  // Bare
                return;
            }
            Li(v, Satp(_r.Next(512)));
            Emit(Opcode.Csrrw, Dest(), v, imm: CsrAddress.Satp);
        }

        /// <summary>SFENCE.VMA of everything, one address, one ASID, or both.</summary>
        private void Sfence()
        {
            int rs1 = 0, rs2 = 0;
            if (_r.Next(2) == 0)
            {
                rs1 = Dest(allowZero: false);
                Li(rs1, FuzzLayout.MappedWindow + (uint)_r.Next(WindowTargets.Length) * 0x1000 + (uint)_r.Next(0x1000));
            }
            if (_r.Next(3) == 0)
            {
                rs2 = Dest(allowZero: false);
                Emit(Opcode.Addi, rs2, 0, imm: _r.Next(512));
            }
            Emit(Opcode.SfenceVma, rs1: rs1, rs2: rs2);
        }
    }
}
