#!/usr/bin/env bash
# Dry run of the GPU call, here, without a GPU: what the device tool would do with
#   run(command="bash cuda-kernels/gpu-check.sh", carry=[".gpu-carry"], timeout_s=...)
# 1. cuda-kernels/prepare-carry.sh (skipped with --no-prepare when .gpu-carry/ is already there);
# 2. copies what travels (tracked files, untracked files git does not ignore, .gpu-carry/) into a fresh folder,
#    checking the 64 MiB limit;
# 3. runs gpu-check.sh --dry-run there (every step on --backend cpu) with OUT set to an empty folder;
# 4. checks what would come back from OUT: at most 8 files, 16 MiB each, 64 MiB together, at most 2 folders
#    down, names of letters, digits, '.', '_' and '-'.
# Prints each part's time. Extra environment (GPU_CHECK_STEPS, GPU_CHECK_BUDGET, PYTHON) passes through;
# GPU_CHECK_BUDGET defaults to 7200 here (the CPU is slower than the GPU; the GPU call keeps 540).
# Usage: cuda-kernels/dry-run.sh [--no-prepare] [--keep]     (--keep: leave the copy and OUT in /tmp)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
prepare=1; keep=0
for a in "$@"; do
  case "$a" in
    --no-prepare) prepare=0 ;;
    --keep) keep=1 ;;
    *) echo "dry-run: unknown argument '$a' (--no-prepare, --keep)" >&2; exit 2 ;;
  esac
done
t0=$SECONDS
if [ "$prepare" = 1 ]; then
  bash cuda-kernels/prepare-carry.sh || exit 1
  echo "dry-run: prepare-carry took $((SECONDS - t0)) s"
fi
[ -f .gpu-carry/hvp4j.jar ] || { echo "dry-run: no .gpu-carry/ (run without --no-prepare)" >&2; exit 1; }

sim="$(mktemp -d /tmp/gpu-dry-run.XXXXXX)"
mkdir -p "$sim/repo" "$sim/out"
(git ls-files -z; git ls-files -z -o --exclude-standard) | sort -zu \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -C "$sim/repo" -xf -
cp -r .gpu-carry "$sim/repo/"
size=$(du -sb "$sim/repo" | cut -f1)
echo "dry-run: what travels: $((size / 1048576)) MiB of 64 ($(du -sb .gpu-carry | cut -f1 | awk '{printf "%d", $1/1048576}') MiB of it .gpu-carry)"
limit=0
[ "$size" -le $((64 * 1048576)) ] || { echo "dry-run: FAIL: over the device tool's 64 MiB"; limit=1; }

t1=$SECONDS
(cd "$sim/repo" && env -u JAVA_HOME OUT="$sim/out" GPU_CHECK_BUDGET="${GPU_CHECK_BUDGET:-7200}" \
  bash cuda-kernels/gpu-check.sh --dry-run)
status=$?
echo "dry-run: gpu-check.sh --dry-run exited $status after $((SECONDS - t1)) s"

echo "dry-run: what comes back from OUT:"
(cd "$sim/out" && find . -type f -printf '  %P %s bytes\n')
python3 - "$sim/out" <<'PY'
import os, re, sys
out = sys.argv[1]; bad = []; files = []
for d, dirs, fs in os.walk(out):
    rel = os.path.relpath(d, out)
    depth = 0 if rel == "." else rel.count(os.sep) + 1
    for name in dirs + fs:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            bad.append(f"name {name!r}")
    for f in fs:
        files.append(os.path.join(d, f))
        if depth > 2:
            bad.append(f"{f} is {depth} folders down")
sizes = [os.path.getsize(f) for f in files]
if len(files) > 8:
    bad.append(f"{len(files)} files (at most 8)")
bad += [f"{os.path.basename(f)} is {s} bytes (16 MiB at most)" for f, s in zip(files, sizes) if s > 16 << 20]
if sum(sizes) > 64 << 20:
    bad.append("over 64 MiB together")
print("dry-run: OUT " + ("FAIL: " + "; ".join(bad) if bad else f"ok ({len(files)} files, {sum(sizes)} bytes)"))
sys.exit(1 if bad else 0)
PY
outs=$?
if [ "$keep" = 1 ]; then echo "dry-run: kept $sim"; else rm -rf "$sim"; fi
echo "dry-run: $((SECONDS - t0)) s in all"
[ "$status" = 0 ] && [ "$outs" = 0 ] && [ "$limit" = 0 ] && echo "dry-run: PASS" && exit 0
echo "dry-run: FAIL"
exit 1
