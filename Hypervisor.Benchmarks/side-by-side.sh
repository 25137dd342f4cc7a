#!/usr/bin/env bash
# Side-by-side guest benchmark: runs a guest ELF on each named engine of hv and on QEMU TCG, in
# fresh processes pinned to one CPU, and prints median and range of wall time and MIPS.
#   usage: Hypervisor.Benchmarks/side-by-side.sh [guest.elf] [runs] [engines]
#   e.g.   Hypervisor.Benchmarks/side-by-side.sh guests/bin/bench-compute.elf 5 interp
set -euo pipefail
cd "$(dirname "$0")/.."
elf=${1:-guests/bin/bench-compute.elf}
runs=${2:-5}
engines=${3:-interp}
cpu=${CPU:-1}
dotnet build Hypervisor.Cli -c Release -v q -nologo >/dev/null
hv=Hypervisor.Cli/bin/Release/net10.0/hv

stats() { # reads numbers, prints "median min max"
  sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f %.3f %.3f\n", m, a[1], a[NR]}'
}

printf '%-8s %10s %22s %10s %22s\n' engine "wall s" "(min..max)" MIPS "(min..max)"
for e in ${engines//,/ }; do
  walls=(); mips=()
  for ((i = 0; i < runs; i++)); do
    line=$(taskset -c "$cpu" "$hv" run "$elf" --engine "$e" --json 2>/dev/null </dev/null | tail -1)
    walls+=("$(echo "$line" | sed -E 's/.*"wallSeconds":([0-9.]+).*/\1/')")
    mips+=("$(echo "$line" | sed -E 's/.*"mips":([0-9.]+).*/\1/')")
  done
  read -r wm wl wh < <(printf '%s\n' "${walls[@]}" | stats)
  read -r mm ml mh < <(printf '%s\n' "${mips[@]}" | stats)
  instret=$(echo "$line" | sed -E 's/.*"instret":([0-9]+).*/\1/')
  printf '%-8s %10s %22s %10s %22s\n' "$e" "$wm" "($wl..$wh)" "$mm" "($ml..$mh)"
done
if command -v qemu-system-riscv32 >/dev/null; then
  walls=()
  for ((i = 0; i < runs; i++)); do
    s=$(date +%s.%N)
    taskset -c "$cpu" qemu-system-riscv32 -machine virt -bios none -nographic -monitor none -serial null -kernel "$elf" </dev/null >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    walls+=("$(echo "$e - $s" | bc -l)")
  done
  read -r wm wl wh < <(printf '%s\n' "${walls[@]}" | stats)
  qm=$(echo "${instret:-0} / $wm / 1000000" | bc -l)
  printf '%-8s %10s %22s %10.1f %22s\n' qemu "$wm" "($wl..$wh)" "$qm" "(process wall time)"
fi
