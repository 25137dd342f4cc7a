# Cross-VM secrecy, the hunter: reads everything it can address, in M mode and through Sv32, for hostile-secret's secret.
SRCS_hostile-hunt = hostile/hunt/hunt.c hostile/hunt/hunt.S common/probe.S
