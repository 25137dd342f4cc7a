# Hostile guest: sleeps in WFI with nothing that could ever wake it (expected end: halted-idle).
SRCS_hostile-sleep = hostile/sleep/sleep.c
