# Hostile guest: loads, stores, fetches and AMOs over the whole physical address space.
SRCS_hostile-scan = hostile/scan/scan.c hostile/scan/trap.S
