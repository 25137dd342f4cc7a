/* Shared constants of the privileged-architecture test suite (C and assembly). */
#ifndef PRIV_H
#define PRIV_H

/* a7 values of the harness's own ECALLs (never used by a test's ECALL, which uses a7 = 0). */
#define MAGIC_RETURN 0x52455455     /* lower-mode function finished: resume run_mode() in M */
#define MAGIC_FAIL   0x4641494c     /* a check failed in S or U: a0 = code */

/* Trap frame: x0..x31 at 4*i, then the vector slot an entry stub was reached through. */
#define FRAME_VEC    128
#define FRAME_SIZE   136
#define NOVEC        0xffffffff

#ifndef __ASSEMBLER__
#include <stdint.h>

struct frame { uint32_t x[32]; uint32_t vec; uint32_t pad; };

/* entry.S */
extern char m_trap_entry[], s_trap_entry[], m_vec_table[], s_vec_table[];
extern char mode_return[];
uint32_t run_mode(uint32_t mode, uint32_t fn, uint32_t a0, uint32_t a1, uint32_t ra);

/* probes.S: each traps (if it does) on its first instruction unless a label says otherwise */
extern char probe_lw[], probe_sw[], probe_lr[], probe_sc[], probe_amo[], probe_lrsc[];
extern char probe_call[], probe_nop[], probe_illegal[], probe_zero[], probe_ebreak[];
extern char probe_ecall[], probe_ecall_insn[];
extern char probe_jalr_mis[], probe_jalr_mis_insn[], probe_jal_mis[], probe_jal_mis_insn[];
extern char probe_br_mis[], probe_br_nt[], mis_target[];
extern char probe_mret_m[], probe_sret_s[], probe_sret_u[], probe_sret_u_ecall[];
extern char probe_mret[], probe_sret[], probe_wfi[], probe_sfence[];
extern char probe_sfence_va_lw[], probe_sfence_va_lw_insn[], probe_sfence_all_lw[];
extern char probe_mprv_lw[], probe_mprv_lw_insn[], probe_mprv_sw[], probe_mprv_sw_insn[];
extern char probe_rd_mstatus[], probe_rd_mscratch[], probe_rd_sstatus[], probe_rd_satp[];
extern char probe_wr_mvendorid[], probe_wr_mhartid[], probe_wr_mimpid[], probe_wr_cycle[];
extern char probe_rs_mhartid[], probe_rsi_mhartid[], probe_rd_custom[];
extern char probe_rd_cycle[], probe_rd_time[], probe_rd_instret[];
extern char probe_rd_cycleh[], probe_rd_timeh[], probe_rd_instreth[];
extern char probe_instret_delta[], probe_cycle_delta[];
/* the page that paging tests map at several virtual addresses */
extern char vm_page[], vm_ret42[], vm_lw[], vm_sw[], vm_mode_return[];
#endif
#endif
