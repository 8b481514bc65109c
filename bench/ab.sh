#!/usr/bin/env bash
# Same-run A/B of two checkouts' CLIs on the bench volume (bench:convert makes it): for each round and each codec,
# `slabchunk convert` from tree A, then from tree B, interleaved so the machine's load hits both alike.
# Prints "round|codec args|tree|wall seconds peak-RSS-KiB" per run (wall time includes node and tsx start-up).
#
#   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/node_modules
#   flock /tmp/bench.lock bash bench/ab.sh /tmp/before . [rounds]
set -euo pipefail
a=${1:?usage: bench/ab.sh TREE_A TREE_B [rounds]}
b=${2:?usage: bench/ab.sh TREE_A TREE_B [rounds]}
rounds=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
vol=$root/.bench-data/volume-1024x1024x512-uint16-s1.raw
[ -f "$vol" ] || { echo "no $vol: run npm run bench:convert once to make it" >&2; exit 2; }
out=$(mktemp -d)/ab.zarr
err=$(mktemp)
for round in $(seq "$rounds"); do
  for args in "--codec raw" "--codec zstd:3" "--codec zstd:3 --shard 256,256,256" "--codec blosc"; do
    for tree in "$a" "$b"; do
      rm -rf "$out" "$out.log"
      # The CLI's entry: bin.cts since issue 10 (it sizes libuv's pool), main.ts before.
      entry=$tree/src/cli/bin.cts
      [ -f "$entry" ] || entry=$tree/src/cli/main.ts
      # shellcheck disable=SC2086
      if /usr/bin/time -f "%e %M" -o "$err" node --import tsx "$entry" convert "$vol" "$out" \
        --shape 1024,1024,512 --dtype uint16 --chunk 64,64,64 $args --no-progress >/dev/null 2>"$out.log"; then
        echo "$round|$args|$tree|$(cat "$err")"
      else
        echo "$round|$args|$tree|FAILED: $(tail -n 1 "$out.log")"
      fi
    done
  done
done
rm -rf "$(dirname "$out")" "$err"
