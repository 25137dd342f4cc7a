# Hostile guest: pseudo-random instruction words run in U (PMP) and S (Sv32) sandboxes.
SRCS_hostile-garbage = hostile/garbage/garbage.c hostile/garbage/sandbox.S
