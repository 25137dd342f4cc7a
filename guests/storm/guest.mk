# storm: the common start-up (crt0, hv.c) plus storm.c and its trap entry (trap.S).
