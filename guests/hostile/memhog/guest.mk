# Hostile guest: stores into every page of its RAM, counting what a memory quota refuses.
SRCS_hostile-memhog = hostile/memhog/memhog.c common/probe.S
