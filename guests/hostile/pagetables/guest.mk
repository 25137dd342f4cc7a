# Hostile guest: absurd and random Sv32 page tables, probed from S and U mode.
SRCS_hostile-pagetables = hostile/pagetables/pagetables.c hostile/pagetables/pt.S
