#!/usr/bin/env bash
# The cost of profiling: runs a guest on each engine uninstrumented (hv run), profiled by binary
# patching and profiled by translation (hv profile --method patch|translate), in fresh processes
# pinned to one CPU, and prints the median wall time of each and the slowdown against the
# uninstrumented run on the same engine. Wall time is the guest's run only (not the report).
#   usage: Hypervisor.Benchmarks/profiling-cost.sh [guest.elf] [runs] [engines]
#   e.g.   Hypervisor.Benchmarks/profiling-cost.sh guests/bin/bench-compute.elf 5 interp,bt,hybrid
set -euo pipefail
cd "$(dirname "$0")/.."
elf=${1:-guests/bin/bench-compute.elf}
runs=${2:-5}
engines=${3:-interp,bt,hybrid}
cpu=${CPU:-1}
dotnet build Hypervisor.Cli -c Release -v q -nologo >/dev/null
hv=Hypervisor.Cli/bin/Release/net10.0/hv

median() { sort -g | awk '{a[NR]=$1} END {printf "%.3f\n", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
wall() { sed -E 's/.*"wallSeconds":([0-9.]+).*/\1/'; }

printf '%-8s %12s %12s %9s %12s %9s\n' engine "plain s" "patch s" slowdown "translate s" slowdown
for e in ${engines//,/ }; do
  plain=(); patch=(); translate=()
  for ((i = 0; i < runs; i++)); do
    plain+=("$(taskset -c "$cpu" "$hv" run "$elf" --engine "$e" --json 2>/dev/null </dev/null | tail -1 | wall)")
    patch+=("$(taskset -c "$cpu" "$hv" profile "$elf" --engine "$e" --method patch --json 2>/dev/null </dev/null | tail -1 | wall)")
    translate+=("$(taskset -c "$cpu" "$hv" profile "$elf" --engine "$e" --method translate --json 2>/dev/null </dev/null | tail -1 | wall)")
  done
  p=$(printf '%s\n' "${plain[@]}" | median)
  pa=$(printf '%s\n' "${patch[@]}" | median)
  tr=$(printf '%s\n' "${translate[@]}" | median)
  printf '%-8s %12s %12s %8.1fx %12s %8.1fx\n' "$e" "$p" "$pa" "$(echo "$pa / $p" | bc -l)" "$tr" "$(echo "$tr / $p" | bc -l)"
done
