# Integer compute benchmark; everything is in bench.c (see its header for debug builds).
