#!/usr/bin/env bash
# `npm run test:cluster`: runs examples/slurm/convert.sbatch as a 4-task array job on a real one-node SLURM
# cluster brought up on this machine (scripts/cluster/start.sh), and checks the store it writes is, file for
# file and byte for byte, the store a single-process conversion of the same input writes; then `verify`.
# Needs root (and apt-get, the first time). Ends with "cluster: N passed, N failed"; exit 0 only if all pass.
# CLUSTER_KEEP=1 keeps the work directory (it is always kept on failure).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

SHAPE=200,150,130     # 5 chunk-rows of 32: the 4 parts own 1, 1, 1 and 2 rows
DTYPE=uint16
CHUNK=32,32,32
CODEC=zstd:3
TASKS=4
slabchunk="node --import tsx $root/src/cli/bin.cts"

work=$(mktemp -d /tmp/slabchunk-cluster.XXXXXX)
passed=0
failed=0
started=$SECONDS

pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }

finish() {
  "$root/scripts/cluster/stop.sh" "$work/cluster"
  if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then
    echo "PASS: SLURM array conversion matches the single-process store ($((SECONDS - started)) s)"
    [ "${CLUSTER_KEEP:-}" = 1 ] && echo "work directory kept: $work" || rm -rf "$work"
  else
    echo "FAIL: cluster test failed; logs in $work (cluster/log, job-*.out)"
    [ "$failed" -eq 0 ] && failed=1
  fi
  echo "cluster: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
trap 'finish; exit $?' EXIT
trap 'fail "interrupted"; exit 130' INT
trap 'fail "terminated"; exit 143' TERM

# Lists every file of a store (hidden ones too) relative to it, sorted, to compare two trees by name.
tree() { (cd "$1" && find . -type f | LC_ALL=C sort); }

# Prints what differs between two stores (names, then bytes); silent and status 0 when identical.
diff_stores() {
  local a=$1 b=$2 status=0 f
  if ! diff <(tree "$a") <(tree "$b") >"$work/names.diff"; then
    echo "  files differ (< $a, > $b):"; sed 's/^/    /' "$work/names.diff" | head -n 20
    status=1
  fi
  while IFS= read -r f; do
    [ -f "$b/$f" ] || continue
    if ! cmp -s "$a/$f" "$b/$f"; then echo "  bytes differ: $f"; status=1; fi
  done < <(tree "$a")
  return $status
}

# 1. A real cluster: munged, slurmctld and slurmd up and the node idle.
if "$root/scripts/cluster/start.sh" "$work/cluster"; then
  pass "one-node SLURM cluster up (munged, slurmctld, slurmd; node idle)"
else
  fail "one-node SLURM cluster did not come up"
  exit 1
fi
# shellcheck source=/dev/null
. "$work/cluster/env"

# The input, and the store one process writes from it. No scheduler variables: this must be the whole volume.
input=$work/volume.raw
node --import tsx --input-type=module -e "
  import { generateVolume } from './bench/lib/volume.ts';
  await generateVolume(process.argv[1], [${SHAPE}], '${DTYPE}', 11);
" "$input" || { fail "could not generate the input volume"; exit 1; }

reference=$work/reference.zarr
if env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN -u JOB_COMPLETION_INDEX \
    $slabchunk convert "$input" "$reference" --shape "$SHAPE" --dtype "$DTYPE" --chunk "$CHUNK" --codec "$CODEC" \
    --no-progress >"$work/reference.out" 2>&1; then
  pass "single-process conversion"
else
  fail "single-process conversion:"; sed 's/^/    /' "$work/reference.out"
  exit 1
fi

# 2. The example itself as a TASKS-task array. --cpus-per-task/--mem override the example's defaults so the
# tasks fit this node and run two at a time (parts writing the same store concurrently).
store=$work/slurm.zarr
if INPUT=$input STORE=$store SHAPE=$SHAPE DTYPE=$DTYPE CHUNK=$CHUNK CODEC=$CODEC SLABCHUNK=$slabchunk \
    timeout 300 sbatch --wait --quiet --array=0-$((TASKS - 1)) --cpus-per-task=1 --mem=500M \
      --chdir="$root" --output="$work/job-%A_%a.out" "$root/examples/slurm/convert.sbatch"; then
  pass "sbatch --wait --array=0-$((TASKS - 1)) examples/slurm/convert.sbatch: every task exited 0"
else
  fail "array job failed (sbatch exit $?); task logs:"
  for f in "$work"/job-*.out; do echo "  == $f"; sed 's/^/    /' "$f"; done
fi

# Each task took its part from SLURM's variables and the parts' rows tile the volume: an array whose tasks
# each converted the whole volume would also leave an identical store, so the store alone cannot show this.
next_row=0
tiled=yes
for i in $(seq 0 $((TASKS - 1))); do
  log=$(ls "$work"/job-*_"$i".out 2>/dev/null | head -n 1)
  line=$([ -n "$log" ] && grep -m 1 "^part $i of $TASKS (SLURM" "$log")
  first=$(printf '%s\n' "$line" | sed -n 's/.*: rows \([0-9]*\)–\([0-9]*\) of \([0-9]*\).*/\1/p')
  last=$(printf '%s\n' "$line" | sed -n 's/.*: rows \([0-9]*\)–\([0-9]*\) of \([0-9]*\).*/\2/p')
  rows=$(printf '%s\n' "$line" | sed -n 's/.*: rows \([0-9]*\)–\([0-9]*\) of \([0-9]*\).*/\3/p')
  if [ -z "$first" ] || [ "$first" != "$next_row" ]; then tiled="task $i: '${line:-no part line in ${log:-its log}}'"; break; fi
  next_row=$((last + 1))
done
if [ "$tiled" = yes ] && [ "$next_row" = "${rows:-}" ]; then
  pass "$TASKS tasks converted parts 0…$((TASKS - 1)) of $TASKS from SLURM's variables, rows tiling 0…$((rows - 1))"
else
  [ "$tiled" = yes ] && tiled="rows end at $next_row of ${rows:-?}"
  fail "array tasks did not split the rows: $tiled"
fi

# 3. Every file byte-identical to the single-process store.
if [ -d "$store" ] && diff_stores "$reference" "$store"; then
  pass "array store byte-identical to the single-process store ($(tree "$reference" | wc -l) files)"
else
  fail "array store differs from the single-process store"
fi

# 4. verify re-reads the input and the array's store and compares every chunk.
if $slabchunk verify "$input" "$store" --no-progress >"$work/verify.out" 2>&1; then
  pass "slabchunk verify on the array store"
else
  fail "slabchunk verify on the array store:"; sed 's/^/    /' "$work/verify.out"
fi

# 5. The two checks above can fail: one flipped byte in one chunk makes both report it.
if [ -d "$store" ]; then
  broken=$work/broken.zarr
  cp -r "$store" "$broken"
  chunk=$(cd "$broken" && find . -type f -path './c/*' | LC_ALL=C sort | head -n 1)
  if [ -n "$chunk" ]; then
    # Flip a bit of the last byte: zstd then rejects the frame or decodes other voxels.
    size=$(stat -c %s "$broken/$chunk")
    byte=$(od -An -tu1 -j $((size - 1)) -N 1 "$broken/$chunk" | tr -d ' ')
    printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$broken/$chunk" bs=1 seek=$((size - 1)) conv=notrunc status=none
    if ! diff_stores "$store" "$broken" >/dev/null \
        && ! $slabchunk verify "$input" "$broken" --no-progress >/dev/null 2>&1; then
      pass "a store with one flipped byte is caught by the comparison and by verify"
    else
      fail "a flipped byte in $chunk went unnoticed"
    fi
  else
    fail "no chunk files in the array store"
  fi
fi

# 6. An OME-Zarr pyramid: the array writes what each part can complete alone, then examples/slurm/finish.sbatch,
# submitted to start only after the whole array succeeded, writes the rest; the store equals one process's.
pyramid_reference=$work/pyramid-reference.zarr
if env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN -u JOB_COMPLETION_INDEX \
    $slabchunk convert "$input" "$pyramid_reference" --shape "$SHAPE" --dtype "$DTYPE" --chunk "$CHUNK" --codec "$CODEC" \
    --ome --voxel-size 0.5,0.5,1 --no-progress >"$work/pyramid-reference.out" 2>&1; then
  pyramid=$work/pyramid.zarr
  jid=$(INPUT=$input STORE=$pyramid SHAPE=$SHAPE DTYPE=$DTYPE CHUNK=$CHUNK CODEC=$CODEC SLABCHUNK=$slabchunk \
    EXTRA='--ome --voxel-size 0.5,0.5,1' sbatch --parsable --array=0-$((TASKS - 1)) --cpus-per-task=1 --mem=500M \
      --chdir="$root" --output="$work/pyramid-%A_%a.out" "$root/examples/slurm/convert.sbatch")
  if [ -n "$jid" ] && STORE=$pyramid SLABCHUNK=$slabchunk timeout 300 sbatch --wait --quiet --dependency=afterok:"$jid" \
      --cpus-per-task=1 --mem=500M --chdir="$root" --output="$work/pyramid-finish.out" "$root/examples/slurm/finish.sbatch" \
      && grep -q '^finished ' "$work/pyramid-finish.out" && diff_stores "$pyramid_reference" "$pyramid" \
      && $slabchunk verify "$input" "$pyramid" --no-progress >"$work/pyramid-verify.out" 2>&1; then
    pass "OME-Zarr pyramid: array + finish job (afterok) byte-identical to the single-process store ($(tree "$pyramid_reference" | wc -l) files); verify checks every level"
  else
    fail "OME-Zarr pyramid array + finish job; logs:"
    for f in "$work"/pyramid*.out; do echo "  == $f"; sed 's/^/    /' "$f"; done
  fi
else
  fail "single-process pyramid conversion:"; sed 's/^/    /' "$work/pyramid-reference.out"
fi
