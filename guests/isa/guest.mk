# ISA self-check: isa.S (the checks) and main.c (the report).
SRCS_isa = isa/main.c isa/isa.S
