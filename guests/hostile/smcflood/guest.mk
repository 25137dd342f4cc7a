# Hostile guest: floods its own code pages with stores, AMOs and patch-FENCE.I-run rounds.
SRCS_hostile-smcflood = hostile/smcflood/flood.c hostile/smcflood/flood.S
