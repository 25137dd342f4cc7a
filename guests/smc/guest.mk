# Self-modifying code: main.c (cases and checks), code.S (the code it patches).
SRCS_smc = smc/main.c smc/code.S
