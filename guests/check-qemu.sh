#!/usr/bin/env bash
# Runs every guest in guests/bin on qemu-system-riscv32 (virt, no firmware) and checks that its
# console transcript equals guests/<name>/expected.out (guests/hostile/<x>/ for hostile-<x>) and its exit code equals expected.exit
# (0 when absent): the reference the simulator's own guest tests compare against. A guest that
# needs a device QEMU does not have (the interrupt generator) holds a qemu.skip file with the
# reason, and is skipped here with a note.
set -u
cd "$(dirname "$0")"
status=0
for elf in bin/*.elf; do
  name=$(basename "$elf" .elf)
  dir="$name"
  case "$name" in hostile-*) dir="hostile/${name#hostile-}" ;; esac
  [ -f "$dir/expected.out" ] || { echo "qemu-check: $name has no expected.out"; status=1; continue; }
  if [ -f "$dir/qemu.skip" ]; then echo "qemu-check: $name skipped: $(head -n 1 "$dir/qemu.skip")"; continue; fi
  input=/dev/null
  [ -f "$dir/input.txt" ] && input="$dir/input.txt"
  want_exit=0
  [ -f "$dir/expected.exit" ] && want_exit=$(cat "$dir/expected.exit")
  limit=120
  # expected.end = halted-idle: the guest sleeps forever; it must still be asleep (killed by timeout, 124) after 5 s.
  if [ "$(cat "$dir/expected.end" 2>/dev/null)" = halted-idle ]; then limit=5; want_exit=124; fi
  out=$(mktemp)
  timeout $limit qemu-system-riscv32 -machine virt -bios none -nographic -monitor none -serial stdio \
      -kernel "$elf" < "$input" > "$out" 2>/dev/null
  code=$?
  if [ "$code" -ne $((want_exit & 255)) ]; then
    echo "qemu-check: $name exited $code, expected $want_exit"; status=1
  elif ! cmp -s "$out" "$dir/expected.out"; then
    echo "qemu-check: $name transcript differs from expected.out:"; diff "$dir/expected.out" "$out" | head -20; status=1
  else
    echo "qemu-check: $name ok"
  fi
  rm -f "$out"
done
exit $status
