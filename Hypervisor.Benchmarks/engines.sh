#!/usr/bin/env bash
# Runs guests on every engine configuration, one fresh process each pinned to one CPU, and prints
# a markdown table of wall time, MIPS, instructions by tier, traps to the monitor, callouts and
# translation cost, from `hv run --json --stats`.
#   usage: Hypervisor.Benchmarks/engines.sh [runs] [guest ...]
#   e.g.   Hypervisor.Benchmarks/engines.sh 3 bench-compute minios syscalls
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}; shift || true
guests=("${@:-bench-compute minios syscalls}")
[ $# -eq 0 ] && guests=(bench-compute minios syscalls)
cpu=${CPU:-1}
dotnet build Hypervisor.Cli -c Release -v q -nologo >/dev/null
hv=Hypervisor.Cli/bin/Release/net10.0/hv
configs=("interp|--engine interp" "bt|--engine bt" "hybrid mode-split|--engine hybrid --policy mode-split"
         "hybrid hot-threshold|--engine hybrid --policy hot-threshold" "hybrid trap-and-emulate|--engine hybrid --policy trap-and-emulate")
echo "| guest | engine | wall s (median) | MIPS | interpreted | translated | direct | traps to monitor | callouts | blocks | translation ms |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for g in "${guests[@]}"; do
  input=/dev/null
  [ -f "guests/$g/input.txt" ] && input="guests/$g/input.txt"
  for c in "${configs[@]}"; do
    name=${c%%|*}; args=${c#*|}
    tmp=$(mktemp)
    for ((i = 0; i < runs; i++)); do
      taskset -c "$cpu" "$hv" run "guests/bin/$g.elf" $args --json <"$input" 2>/dev/null | tail -1 >>"$tmp"
    done
    python3 - "$g" "$name" "$tmp" <<'PY'
import json, sys, statistics
g, name, path = sys.argv[1:4]
rows = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
rows.sort(key=lambda r: r["wallSeconds"])
m = rows[len(rows) // 2]
s = m["engineStats"]
print(f"| {g} | {name} | {m['wallSeconds']:.3f} | {m['mips']:.0f} | {s['InstructionsInterpreted']:,} | {s['InstructionsTranslated']:,} | "
      f"{s['InstructionsDirect']:,} | {s['TrapsToMonitor']:,} | {s['Callouts']:,} | {s['BlocksTranslated']:,} | {s['TranslationSeconds']*1e3:.0f} |")
PY
    rm -f "$tmp"
  done
done
