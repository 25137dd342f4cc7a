using Hypervisor.Isa;

namespace Hypervisor.Tests.Isa;

/// <summary>Builds instruction words from their fields, as the RISC-V unprivileged spec (2.2, 2.3) lays them out.</summary>
internal static class Encode
{
    public const uint OpLoad = 0x03, OpMiscMem = 0x0F, OpImm = 0x13, OpAuipc = 0x17, OpStore = 0x23, OpAmo = 0x2F,
        OpReg = 0x33, OpLui = 0x37, OpBranch = 0x63, OpJalr = 0x67, OpJal = 0x6F, OpSystem = 0x73;

    public static uint R(uint opcode, int rd, int funct3, int rs1, int rs2, int funct7) =>
        ((uint)funct7 << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15) | ((uint)funct3 << 12) | ((uint)rd << 7) | opcode;

    public static uint I(uint opcode, int rd, int funct3, int rs1, int imm) =>
        (((uint)imm & 0xFFF) << 20) | ((uint)rs1 << 15) | ((uint)funct3 << 12) | ((uint)rd << 7) | opcode;

    public static uint S(uint opcode, int funct3, int rs1, int rs2, int imm) =>
        ((((uint)imm >> 5) & 0x7F) << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15) | ((uint)funct3 << 12) |
        (((uint)imm & 0x1F) << 7) | opcode;

    public static uint B(uint opcode, int funct3, int rs1, int rs2, int imm) =>
        ((((uint)imm >> 12) & 1) << 31) | ((((uint)imm >> 5) & 0x3F) << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15) |
        ((uint)funct3 << 12) | ((((uint)imm >> 1) & 0xF) << 8) | ((((uint)imm >> 11) & 1) << 7) | opcode;

    public static uint U(uint opcode, int rd, int imm) => ((uint)imm & 0xFFFFF000) | ((uint)rd << 7) | opcode;

    public static uint J(uint opcode, int rd, int imm) =>
        ((((uint)imm >> 20) & 1) << 31) | ((((uint)imm >> 1) & 0x3FF) << 21) | ((((uint)imm >> 11) & 1) << 20) |
        ((((uint)imm >> 12) & 0xFF) << 12) | ((uint)rd << 7) | opcode;

    public static uint Amo(int funct5, bool aq, bool rl, int rd, int rs1, int rs2) =>
        R(OpAmo, rd, 2, rs1, rs2, (funct5 << 2) | (aq ? 2 : 0) | (rl ? 1 : 0));
}

public class DecoderTests
{
    // ------------------------------------------------------------ words checked against GNU as (riscv64-unknown-elf-as, -march=rv32ima_zicsr_zifencei)

    [Fact]
    public void Addi_with_negative_immediate_decodes_from_the_assembler_word()
    {
        Instruction i = Decoder.Decode(0xFFF50513); // addi a0, a0, -1
        Assert.Equal(Opcode.Addi, i.Op);
        Assert.Equal(10, i.Rd);
        Assert.Equal(10, i.Rs1);
        Assert.Equal(-1, i.Imm);
        Assert.Equal(0xFFF50513u, i.Raw);
    }

    [Fact]
    public void R_type_decodes_rd_rs1_rs2()
    {
        Instruction i = Decoder.Decode(0x41DF0FB3); // sub t6, t5, t4
        Assert.Equal(Opcode.Sub, i.Op);
        Assert.Equal(31, i.Rd);
        Assert.Equal(30, i.Rs1);
        Assert.Equal(29, i.Rs2);
        Assert.Equal(0, i.Imm);
    }

    [Fact]
    public void M_extension_instructions_decode_with_funct7_one()
    {
        Instruction mul = Decoder.Decode(0x03498933); // mul s2, s3, s4
        Instruction divu = Decoder.Decode(0x027352B3); // divu t0, t1, t2
        Assert.Equal((Opcode.Mul, 18, 19, 20), (mul.Op, (int)mul.Rd, (int)mul.Rs1, (int)mul.Rs2));
        Assert.Equal((Opcode.Divu, 5, 6, 7), (divu.Op, (int)divu.Rd, (int)divu.Rs1, (int)divu.Rs2));
    }

    [Fact]
    public void Load_decodes_as_I_type_with_offset()
    {
        Instruction i = Decoder.Decode(0x00C12083); // lw ra, 12(sp)
        Assert.Equal(Opcode.Lw, i.Op);
        Assert.Equal(1, i.Rd);
        Assert.Equal(2, i.Rs1);
        Assert.Equal(12, i.Imm);
    }

    [Fact]
    public void Jalr_decodes_negative_offset()
    {
        Instruction i = Decoder.Decode(0xFFC280E7); // jalr ra, -4(t0)
        Assert.Equal(Opcode.Jalr, i.Op);
        Assert.Equal(1, i.Rd);
        Assert.Equal(5, i.Rs1);
        Assert.Equal(-4, i.Imm);
    }

    [Theory]
    [InlineData(0x80010093u, -2048)] // addi ra, sp, -2048
    [InlineData(0x7FF10093u, 2047)]  // addi ra, sp, 2047
    public void I_type_immediate_boundaries_are_sign_extended(uint word, int imm)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(Opcode.Addi, i.Op);
        Assert.Equal(1, i.Rd);
        Assert.Equal(2, i.Rs1);
        Assert.Equal(imm, i.Imm);
    }

    [Fact]
    public void Store_decodes_split_immediate_and_has_no_rd()
    {
        Instruction i = Decoder.Decode(0x00112623); // sw ra, 12(sp)
        Assert.Equal(Opcode.Sw, i.Op);
        Assert.Equal(2, i.Rs1);
        Assert.Equal(1, i.Rs2);
        Assert.Equal(12, i.Imm);
        Assert.Equal(0, i.Rd);
    }

    [Theory]
    [InlineData(0x80F40023u, Opcode.Sb, -2048)] // sb a5, -2048(s0)
    [InlineData(0x7EF41FA3u, Opcode.Sh, 2047)]  // sh a5, 2047(s0)
    public void S_type_immediate_boundaries_are_sign_extended(uint word, Opcode op, int imm)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(op, i.Op);
        Assert.Equal(8, i.Rs1);
        Assert.Equal(15, i.Rs2);
        Assert.Equal(imm, i.Imm);
    }

    [Theory]
    [InlineData(0x7EB50FE3u, Opcode.Beq, 10, 11, 4094)]   // beq a0, a1, .+4094 (largest forward)
    [InlineData(0x80B51063u, Opcode.Bne, 10, 11, -4096)]  // bne a0, a1, .-4096 (largest backward)
    [InlineData(0x01F04163u, Opcode.Blt, 0, 31, 2)]       // blt zero, t6, .+2
    [InlineData(0xFE62FFE3u, Opcode.Bgeu, 5, 6, -2)]      // bgeu t0, t1, .-2
    public void B_type_offsets_decode_to_the_branch_range_limits(uint word, Opcode op, int rs1, int rs2, int offset)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(op, i.Op);
        Assert.Equal(rs1, i.Rs1);
        Assert.Equal(rs2, i.Rs2);
        Assert.Equal(offset, i.Imm);
        Assert.Equal(0, i.Rd);
    }

    [Theory]
    [InlineData(0x7FFFF0EFu, 1, 1048574)]   // jal ra, .+1 MiB-2 (largest forward)
    [InlineData(0x8000006Fu, 0, -1048576)]  // jal zero, .-1 MiB (largest backward)
    [InlineData(0x001002EFu, 5, 2048)]      // jal t0, .+2048 (bit 11 comes from instruction bit 20)
    public void J_type_offsets_decode_to_the_jump_range_limits(uint word, int rd, int offset)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(Opcode.Jal, i.Op);
        Assert.Equal(rd, i.Rd);
        Assert.Equal(offset, i.Imm);
    }

    [Theory]
    [InlineData(0x12345537u, Opcode.Lui, 10, 0x12345000)]               // lui a0, 0x12345
    [InlineData(0xFFFFF097u, Opcode.Auipc, 1, unchecked((int)0xFFFFF000))] // auipc ra, 0xfffff
    public void U_type_keeps_the_upper_twenty_bits_in_place(uint word, Opcode op, int rd, int imm)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(op, i.Op);
        Assert.Equal(rd, i.Rd);
        Assert.Equal(imm, i.Imm);
    }

    [Theory]
    [InlineData(0x01F59513u, Opcode.Slli, 10, 11, 31)] // slli a0, a1, 31
    [InlineData(0x4075D513u, Opcode.Srai, 10, 11, 7)]  // srai a0, a1, 7
    [InlineData(0x001F5F93u, Opcode.Srli, 31, 30, 1)]  // srli t6, t5, 1
    public void Shift_immediates_decode_shamt_without_funct7(uint word, Opcode op, int rd, int rs1, int shamt)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(op, i.Op);
        Assert.Equal(rd, i.Rd);
        Assert.Equal(rs1, i.Rs1);
        Assert.Equal(shamt, i.Imm);
    }

    [Fact]
    public void Csrrw_holds_the_csr_number_unsigned_in_imm()
    {
        Instruction i = Decoder.Decode(0x34059573); // csrrw a0, mscratch, a1
        Assert.Equal(Opcode.Csrrw, i.Op);
        Assert.Equal(10, i.Rd);
        Assert.Equal(11, i.Rs1);
        Assert.Equal(0x340, i.Csr);
        Assert.Equal(0x340, i.Imm);
    }

    [Fact]
    public void Csr_number_0xfff_is_not_sign_extended()
    {
        Instruction i = Decoder.Decode(0xFFF0E2F3); // csrrsi t0, 0xfff, 1
        Assert.Equal(Opcode.Csrrsi, i.Op);
        Assert.Equal(5, i.Rd);
        Assert.Equal(1, i.Rs1);
        Assert.Equal(0xFFF, i.Csr);
        Assert.Equal(0xFFF, i.Imm);
    }

    [Fact]
    public void Csr_immediate_form_carries_the_zimm_in_rs1()
    {
        Instruction i = Decoder.Decode(0x300FD073); // csrrwi zero, mstatus, 31
        Assert.Equal(Opcode.Csrrwi, i.Op);
        Assert.Equal(0, i.Rd);
        Assert.Equal(31, i.Rs1);
        Assert.Equal(0x300, i.Csr);
    }

    [Fact]
    public void Csr_with_funct3_four_is_illegal()
    {
        uint word = Encode.I(Encode.OpSystem, 10, 4, 11, 0x340);
        Assert.Equal(Opcode.Illegal, Decoder.Decode(word).Op);
    }

    [Fact]
    public void Amoadd_decodes_registers()
    {
        Instruction i = Decoder.Decode(0x00B6252F); // amoadd.w a0, a1, (a2)
        Assert.Equal(Opcode.AmoaddW, i.Op);
        Assert.Equal(10, i.Rd);
        Assert.Equal(12, i.Rs1);
        Assert.Equal(11, i.Rs2);
    }

    [Theory]
    [InlineData(0x0663A2AFu, Opcode.AmoaddW, 5, 7, 6)]  // amoadd.w.aqrl t0, t1, (t2)
    [InlineData(0x1405A52Fu, Opcode.LrW, 10, 11, 0)]    // lr.w.aq a0, (a1)
    [InlineData(0x1AD7262Fu, Opcode.ScW, 12, 14, 13)]   // sc.w.rl a2, a3, (a4)
    public void Atomics_decode_with_aq_and_rl_bits_set(uint word, Opcode op, int rd, int rs1, int rs2)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(op, i.Op);
        Assert.Equal(rd, i.Rd);
        Assert.Equal(rs1, i.Rs1);
        Assert.Equal(rs2, i.Rs2);
        Assert.Equal(word, i.Raw);
    }

    [Theory]
    [InlineData(0b00001, Opcode.AmoswapW)]
    [InlineData(0b00000, Opcode.AmoaddW)]
    [InlineData(0b00100, Opcode.AmoxorW)]
    [InlineData(0b01100, Opcode.AmoandW)]
    [InlineData(0b01000, Opcode.AmoorW)]
    [InlineData(0b10000, Opcode.AmominW)]
    [InlineData(0b10100, Opcode.AmomaxW)]
    [InlineData(0b11000, Opcode.AmominuW)]
    [InlineData(0b11100, Opcode.AmomaxuW)]
    [InlineData(0b00011, Opcode.ScW)]
    public void Every_amo_decodes_from_its_funct5_with_all_aq_rl_combinations(int funct5, Opcode op)
    {
        foreach (bool aq in new[] { false, true })
        {
            foreach (bool rl in new[] { false, true })
            {
                uint word = Encode.Amo(funct5, aq, rl, 3, 4, 5);
                Instruction i = Decoder.Decode(word);
                Assert.Equal(op, i.Op);
                Assert.Equal((3, 4, 5), ((int)i.Rd, (int)i.Rs1, (int)i.Rs2));
            }
        }
    }

    [Fact]
    public void Lr_with_nonzero_rs2_is_illegal()
    {
        uint word = Encode.Amo(0b00010, aq: false, rl: false, rd: 10, rs1: 11, rs2: 1);
        Instruction i = Decoder.Decode(word);
        Assert.Equal(Opcode.Illegal, i.Op);
        Assert.Equal(word, i.Raw);
    }

    [Fact]
    public void Amo_with_doubleword_width_is_illegal()
    {
        uint word = Encode.R(Encode.OpAmo, 10, 3, 11, 12, 0); // amoadd.d
        Assert.Equal(Opcode.Illegal, Decoder.Decode(word).Op);
    }

    [Theory]
    [InlineData(0x0FF0000Fu, Opcode.Fence)]   // fence (iorw, iorw)
    [InlineData(0x0310000Fu, Opcode.Fence)]   // fence rw, w
    [InlineData(0x8330000Fu, Opcode.Fence)]   // fence.tso
    [InlineData(0x0000100Fu, Opcode.FenceI)]  // fence.i
    [InlineData(0x00000073u, Opcode.Ecall)]
    [InlineData(0x00100073u, Opcode.Ebreak)]
    [InlineData(0x30200073u, Opcode.Mret)]
    [InlineData(0x10200073u, Opcode.Sret)]
    [InlineData(0x10500073u, Opcode.Wfi)]
    public void Ordering_and_system_instructions_decode(uint word, Opcode op)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(op, i.Op);
        Assert.Equal(word, i.Raw);
    }

    [Fact]
    public void Sfence_vma_without_operands_decodes_with_zero_registers()
    {
        Instruction i = Decoder.Decode(0x12000073);
        Assert.Equal(Opcode.SfenceVma, i.Op);
        Assert.Equal(0, i.Rs1);
        Assert.Equal(0, i.Rs2);
    }

    [Fact]
    public void Sfence_vma_decodes_its_address_and_asid_registers()
    {
        Instruction i = Decoder.Decode(0x12B50073); // sfence.vma a0, a1
        Assert.Equal(Opcode.SfenceVma, i.Op);
        Assert.Equal(10, i.Rs1);
        Assert.Equal(11, i.Rs2);
        Assert.Equal(0, i.Rd);
    }

    [Theory]
    [InlineData(0x00000473u)] // ecall with rd != 0
    [InlineData(0x00008073u)] // ecall with rs1 != 0
    [InlineData(0x30200473u)] // mret with rd != 0
    [InlineData(0x10500573u)] // wfi with rd != 0
    [InlineData(0x12000573u)] // sfence.vma with rd != 0
    [InlineData(0x00200073u)] // funct12 = 2 (uret, not in this machine)
    [InlineData(0x7B200073u)] // dret (debug mode, not implemented)
    public void System_encodings_with_wrong_fixed_fields_are_illegal(uint word)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(Opcode.Illegal, i.Op);
        Assert.Equal(word, i.Raw);
    }

    // ------------------------------------------------------------ illegal encodings

    [Theory]
    [InlineData(0x00000000u)] // all zeros (defined illegal)
    [InlineData(0xFFFFFFFFu)] // all ones (defined illegal)
    [InlineData(0x00004501u)] // c.li a0, 0 (compressed, quadrant 1)
    [InlineData(0x00008082u)] // c.ret (compressed, quadrant 2)
    [InlineData(0x00000FFCu)] // c.addi4spn (compressed, quadrant 0)
    [InlineData(0x00B50531u)] // add a0, a0, a1 with low bits 01
    public void Words_that_are_not_32_bit_instructions_are_illegal_with_raw_kept(uint word)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(Opcode.Illegal, i.Op);
        Assert.Equal(word, i.Raw);
    }

    [Theory]
    [InlineData(0x20B50533u)] // add with funct7 = 0x10
    [InlineData(0x80B50533u)] // add with funct7 = 0x40
    [InlineData(0x40B54533u)] // xor with funct7 = 0x20 (only sub/sra use it)
    [InlineData(0x40B51533u)] // sll with funct7 = 0x20
    [InlineData(0x02B5D513u)] // srli with shamt[5] set (RV64 only)
    [InlineData(0x4215D513u)] // srai with shamt[5] set (RV64 only)
    [InlineData(0x40B59513u)] // slli with funct7 = 0x20
    [InlineData(0x0205D513u)] // srli a0, a1, 32 (RV64 encoding)
    public void Reserved_funct7_values_are_illegal(uint word)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(Opcode.Illegal, i.Op);
        Assert.Equal(word, i.Raw);
    }

    [Theory]
    [InlineData(0x00B5053Bu)] // addw a0, a0, a1
    [InlineData(0x0015051Bu)] // addiw a0, a0, 1
    [InlineData(0x00053503u)] // ld a0, 0(a0)
    [InlineData(0x00056503u)] // lwu a0, 0(a0)
    [InlineData(0x00A53023u)] // sd a0, 0(a0)
    [InlineData(0x0015151Bu)] // slliw a0, a0, 1
    public void Rv64_only_instructions_are_illegal(uint word)
    {
        Assert.Equal(Opcode.Illegal, Decoder.Decode(word).Op);
    }

    [Theory]
    [InlineData(0x00052507u)] // flw fa0, 0(a0)
    [InlineData(0x00A52027u)] // fsw fa0, 0(a0)
    [InlineData(0x00B57553u)] // fadd.s fa0, fa0, fa1
    [InlineData(0x00053507u)] // fld fa0, 0(a0)
    [InlineData(0x00B5754Bu)] // fnmsub.s
    public void Floating_point_instructions_are_illegal(uint word)
    {
        Assert.Equal(Opcode.Illegal, Decoder.Decode(word).Op);
    }

    [Theory]
    [InlineData(0x0000000Bu)] // custom-0
    [InlineData(0x0000005Bu)] // custom-2
    [InlineData(0x00000057u)] // OP-V
    [InlineData(0x0000007Fu)] // 80-bit+ encoding space
    [InlineData(0x0000003Fu)] // 48-bit encoding space
    [InlineData(0x00001067u)] // jalr with funct3 = 1
    [InlineData(0x00002063u)] // branch funct3 = 2
    [InlineData(0x00003063u)] // branch funct3 = 3
    [InlineData(0x00007003u)] // load funct3 = 7
    [InlineData(0x00004023u)] // store funct3 = 4
    [InlineData(0x0000200Fu)] // misc-mem funct3 = 2 (cbo without Zicbom)
    public void Unknown_opcodes_and_funct3_values_are_illegal(uint word)
    {
        Instruction i = Decoder.Decode(word);
        Assert.Equal(Opcode.Illegal, i.Op);
        Assert.Equal(word, i.Raw);
    }

    [Fact]
    public void Illegal_instruction_has_zero_fields()
    {
        Instruction i = Decoder.Decode(0xFFFFFFFF);
        Assert.Equal((0, 0, 0, 0), ((int)i.Rd, (int)i.Rs1, (int)i.Rs2, i.Imm));
    }

    // ------------------------------------------------------------ table-driven round trip

    private static readonly int[] ImmI = [-2048, -1, 0, 1, 7, 0x555, 2047];
    private static readonly int[] ImmB = [-4096, -2, 0, 2, 0x7FE, 0x800, 4094];
    private static readonly int[] ImmJ = [-1048576, -2, 0, 2, 2048, 0x7FFFE, 0xFF000, 1048574];
    private static readonly int[] ImmU = [0, 0x1000, 0x7FFFF000, unchecked((int)0x80000000), unchecked((int)0xFFFFF000)];
    private static readonly (int Rd, int Rs1, int Rs2)[] Regs = [(0, 0, 0), (1, 2, 3), (31, 30, 29), (17, 8, 26)];

    public static TheoryData<Opcode, int> RFormats => new()
    {
        { Opcode.Add, 0x00 << 3 | 0 }, { Opcode.Sub, 0x20 << 3 | 0 }, { Opcode.Sll, 0x00 << 3 | 1 },
        { Opcode.Slt, 0x00 << 3 | 2 }, { Opcode.Sltu, 0x00 << 3 | 3 }, { Opcode.Xor, 0x00 << 3 | 4 },
        { Opcode.Srl, 0x00 << 3 | 5 }, { Opcode.Sra, 0x20 << 3 | 5 }, { Opcode.Or, 0x00 << 3 | 6 },
        { Opcode.And, 0x00 << 3 | 7 },
        { Opcode.Mul, 0x01 << 3 | 0 }, { Opcode.Mulh, 0x01 << 3 | 1 }, { Opcode.Mulhsu, 0x01 << 3 | 2 },
        { Opcode.Mulhu, 0x01 << 3 | 3 }, { Opcode.Div, 0x01 << 3 | 4 }, { Opcode.Divu, 0x01 << 3 | 5 },
        { Opcode.Rem, 0x01 << 3 | 6 }, { Opcode.Remu, 0x01 << 3 | 7 },
    };

    [Theory]
    [MemberData(nameof(RFormats))]
    public void R_type_round_trip(Opcode op, int funct7AndFunct3)
    {
        foreach ((int rd, int rs1, int rs2) in Regs)
        {
            uint word = Encode.R(Encode.OpReg, rd, funct7AndFunct3 & 7, rs1, rs2, funct7AndFunct3 >> 3);
            Instruction i = Decoder.Decode(word);
            Assert.Equal(op, i.Op);
            Assert.Equal((rd, rs1, rs2), ((int)i.Rd, (int)i.Rs1, (int)i.Rs2));
            Assert.Equal(word, i.Raw);
        }
    }

    public static TheoryData<Opcode, uint, int> IFormats => new()
    {
        { Opcode.Jalr, Encode.OpJalr, 0 },
        { Opcode.Lb, Encode.OpLoad, 0 }, { Opcode.Lh, Encode.OpLoad, 1 }, { Opcode.Lw, Encode.OpLoad, 2 },
        { Opcode.Lbu, Encode.OpLoad, 4 }, { Opcode.Lhu, Encode.OpLoad, 5 },
        { Opcode.Addi, Encode.OpImm, 0 }, { Opcode.Slti, Encode.OpImm, 2 }, { Opcode.Sltiu, Encode.OpImm, 3 },
        { Opcode.Xori, Encode.OpImm, 4 }, { Opcode.Ori, Encode.OpImm, 6 }, { Opcode.Andi, Encode.OpImm, 7 },
    };

    [Theory]
    [MemberData(nameof(IFormats))]
    public void I_type_round_trip(Opcode op, uint opcode, int funct3)
    {
        foreach ((int rd, int rs1, _) in Regs)
        {
            foreach (int imm in ImmI)
            {
                uint word = Encode.I(opcode, rd, funct3, rs1, imm);
                Instruction i = Decoder.Decode(word);
                Assert.Equal(op, i.Op);
                Assert.Equal((rd, rs1, imm), ((int)i.Rd, (int)i.Rs1, i.Imm));
                Assert.Equal(word, i.Raw);
            }
        }
    }

    [Theory]
    [InlineData(Opcode.Slli, 1, 0x00)]
    [InlineData(Opcode.Srli, 5, 0x00)]
    [InlineData(Opcode.Srai, 5, 0x20)]
    public void Shift_round_trip(Opcode op, int funct3, int funct7)
    {
        foreach ((int rd, int rs1, _) in Regs)
        {
            for (int shamt = 0; shamt < 32; shamt++)
            {
                uint word = Encode.R(Encode.OpImm, rd, funct3, rs1, shamt, funct7);
                Instruction i = Decoder.Decode(word);
                Assert.Equal(op, i.Op);
                Assert.Equal((rd, rs1, shamt), ((int)i.Rd, (int)i.Rs1, i.Imm));
            }
        }
    }

    [Theory]
    [InlineData(Opcode.Sb, 0)]
    [InlineData(Opcode.Sh, 1)]
    [InlineData(Opcode.Sw, 2)]
    public void S_type_round_trip(Opcode op, int funct3)
    {
        foreach ((_, int rs1, int rs2) in Regs)
        {
            foreach (int imm in ImmI)
            {
                uint word = Encode.S(Encode.OpStore, funct3, rs1, rs2, imm);
                Instruction i = Decoder.Decode(word);
                Assert.Equal(op, i.Op);
                Assert.Equal((rs1, rs2, imm), ((int)i.Rs1, (int)i.Rs2, i.Imm));
            }
        }
    }

    [Theory]
    [InlineData(Opcode.Beq, 0)]
    [InlineData(Opcode.Bne, 1)]
    [InlineData(Opcode.Blt, 4)]
    [InlineData(Opcode.Bge, 5)]
    [InlineData(Opcode.Bltu, 6)]
    [InlineData(Opcode.Bgeu, 7)]
    public void B_type_round_trip(Opcode op, int funct3)
    {
        foreach ((_, int rs1, int rs2) in Regs)
        {
            foreach (int imm in ImmB)
            {
                uint word = Encode.B(Encode.OpBranch, funct3, rs1, rs2, imm);
                Instruction i = Decoder.Decode(word);
                Assert.Equal(op, i.Op);
                Assert.Equal((rs1, rs2, imm), ((int)i.Rs1, (int)i.Rs2, i.Imm));
            }
        }
    }

    [Theory]
    [InlineData(Opcode.Lui, Encode.OpLui)]
    [InlineData(Opcode.Auipc, Encode.OpAuipc)]
    public void U_type_round_trip(Opcode op, uint opcode)
    {
        foreach ((int rd, _, _) in Regs)
        {
            foreach (int imm in ImmU)
            {
                uint word = Encode.U(opcode, rd, imm);
                Instruction i = Decoder.Decode(word);
                Assert.Equal(op, i.Op);
                Assert.Equal((rd, imm), ((int)i.Rd, i.Imm));
            }
        }
    }

    [Fact]
    public void J_type_round_trip()
    {
        foreach ((int rd, _, _) in Regs)
        {
            foreach (int imm in ImmJ)
            {
                uint word = Encode.J(Encode.OpJal, rd, imm);
                Instruction i = Decoder.Decode(word);
                Assert.Equal(Opcode.Jal, i.Op);
                Assert.Equal((rd, imm), ((int)i.Rd, i.Imm));
            }
        }
    }

    [Theory]
    [InlineData(Opcode.Csrrw, 1)]
    [InlineData(Opcode.Csrrs, 2)]
    [InlineData(Opcode.Csrrc, 3)]
    [InlineData(Opcode.Csrrwi, 5)]
    [InlineData(Opcode.Csrrsi, 6)]
    [InlineData(Opcode.Csrrci, 7)]
    public void Csr_round_trip(Opcode op, int funct3)
    {
        foreach (int csr in new[] { 0x000, 0x100, 0x180, 0x300, 0x7FF, 0x800, 0xC00, 0xF14, 0xFFF })
        {
            foreach ((int rd, int rs1, _) in Regs)
            {
                uint word = Encode.I(Encode.OpSystem, rd, funct3, rs1, csr);
                Instruction i = Decoder.Decode(word);
                Assert.Equal(op, i.Op);
                Assert.Equal((rd, rs1, csr), ((int)i.Rd, (int)i.Rs1, i.Csr));
            }
        }
    }

    [Fact]
    public void Encoder_helper_matches_the_assembler()
    {
        // Guards the round-trip tests: the helper must produce what GNU as produces.
        Assert.Equal(0xFFF50513u, Encode.I(Encode.OpImm, 10, 0, 10, -1));
        Assert.Equal(0x00112623u, Encode.S(Encode.OpStore, 2, 2, 1, 12));
        Assert.Equal(0x80B51063u, Encode.B(Encode.OpBranch, 1, 10, 11, -4096));
        Assert.Equal(0x7EB50FE3u, Encode.B(Encode.OpBranch, 0, 10, 11, 4094));
        Assert.Equal(0x7FFFF0EFu, Encode.J(Encode.OpJal, 1, 1048574));
        Assert.Equal(0x001002EFu, Encode.J(Encode.OpJal, 5, 2048));
        Assert.Equal(0x12345537u, Encode.U(Encode.OpLui, 10, 0x12345000));
        Assert.Equal(0x41DF0FB3u, Encode.R(Encode.OpReg, 31, 0, 30, 29, 0x20));
        Assert.Equal(0x0663A2AFu, Encode.Amo(0, aq: true, rl: true, rd: 5, rs1: 7, rs2: 6));
    }
}

public class DisassemblerTests
{
    [Theory]
    [InlineData(0xFFF50513u, "addi a0, a0, -1")]
    [InlineData(0x00C12083u, "lw ra, 12(sp)")]
    [InlineData(0x00112623u, "sw ra, 12(sp)")]
    [InlineData(0x00B6252Fu, "amoadd.w a0, a1, (a2)")]
    [InlineData(0x1005A52Fu, "lr.w a0, (a1)")]
    [InlineData(0x34059573u, "csrrw a0, 0x340, a1")]
    [InlineData(0x300FD073u, "csrrwi zero, 0x300, 31")]
    [InlineData(0x12345537u, "lui a0, 0x12345")]
    [InlineData(0x41DF0FB3u, "sub t6, t5, t4")]
    [InlineData(0x4075D513u, "srai a0, a1, 7")]
    [InlineData(0x12B50073u, "sfence.vma a0, a1")]
    [InlineData(0x0000100Fu, "fence.i")]
    [InlineData(0x30200073u, "mret")]
    [InlineData(0x00000000u, ".word 0x00000000")]
    [InlineData(0xFFFFFFFFu, ".word 0xffffffff")]
    public void Formats_instruction(uint word, string text)
    {
        Assert.Equal(text, Disassembler.Format(Decoder.Decode(word), 0x8000_0000));
    }

    [Theory]
    [InlineData(0x0663A2AFu, "amoadd.w.aqrl t0, t1, (t2)")]
    [InlineData(0x1405A52Fu, "lr.w.aq a0, (a1)")]
    [InlineData(0x1AD7262Fu, "sc.w.rl a2, a3, (a4)")]
    public void Atomics_show_their_aq_rl_ordering_suffix(uint word, string text)
    {
        // GNU objdump prints these words exactly so; dropping the suffix makes two different
        // instructions read the same in traces and fuzzer reports.
        Assert.Equal(text, Disassembler.Format(Decoder.Decode(word), 0));
    }

    [Fact]
    public void Branch_target_is_resolved_against_the_pc()
    {
        Instruction i = Decoder.Decode(0x80B51063); // bne a0, a1, .-4096
        Assert.Equal("bne a0, a1, 0x80000000", Disassembler.Format(i, 0x8000_1000));
    }

    [Fact]
    public void Jump_target_is_resolved_against_the_pc()
    {
        Instruction i = Decoder.Decode(0x001002EF); // jal t0, .+2048
        Assert.Equal("jal t0, 0x80000800", Disassembler.Format(i, 0x8000_0000));
    }

    [Theory]
    [InlineData(0, "zero")]
    [InlineData(2, "sp")]
    [InlineData(8, "s0")]
    [InlineData(10, "a0")]
    [InlineData(18, "s2")]
    [InlineData(31, "t6")]
    public void Register_names_follow_the_abi(int index, string name)
    {
        Assert.Equal(name, Disassembler.RegisterName(index));
    }
}
