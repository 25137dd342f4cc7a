# Hostile guest: masks every interrupt, leaves a timer and a software interrupt pending, and spins.
SRCS_hostile-spin = hostile/spin/spin.c
