# minios brings its own start-up code and link map (the user region must be page-aligned),
# so the common crt0 and the common -T are left out; hv.c is reused for kernel printing.
# link.ld is listed as a source only to be a prerequisite (the recipe passes just .c/.S on).
NOCOMMON_minios = 1
SRCS_minios = minios/start.S minios/mlayer.c minios/kernel.c minios/user.c common/hv.c minios/link.ld
CFLAGS_minios = -fno-tree-loop-distribute-patterns -fno-jump-tables
LDFLAGS_minios = -T minios/link.ld
bin/minios.elf: LDFLAGS := $(filter-out -T common/link.ld,$(LDFLAGS))
