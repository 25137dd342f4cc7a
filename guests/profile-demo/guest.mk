# A guest with known structure (a function called 37 times, a 100-trip loop, a branch never
# taken) for the profiler and coverage tests; built with the common flags (-O2 -g).
