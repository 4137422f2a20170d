#!/usr/bin/env bash
# Compiles src/main/cuda/hvp4j.cu to PTX with nvcc, for the two targets the CUDA backend loads:
#   sm_90       Hopper (H100/H200), loaded on devices of compute capability >= 9.0;
#   compute_75  the lowest virtual architecture nvcc 13 still accepts (Turing), JIT-compiled by the
#               driver on any other device of compute capability >= 7.5.
# Usage: build-ptx.sh OUT_DIR      writes OUT_DIR/hvp4j_sm_90.ptx and OUT_DIR/hvp4j_compute_75.ptx
#        build-ptx.sh --update     regenerates the committed copies under src/main/resources
# With --update each PTX is then assembled with ptxas for its architecture (errors or register spills fail);
# the build's regeneration skips that (time), and PtxUpToDateTest ties the committed PTX to the source. --update
# also writes hvp4j.cu.sha256 beside the committed PTX (the hash of the source it was made from), which
# PtxUpToDateTest checks on every build, with or without nvcc, so that an edit of hvp4j.cu without regenerated PTX
# fails CI even where nvcc is absent.
# Without nvcc (on PATH or in /usr/local/cuda/bin) it prints a note and exits 0: the build then packages the
# committed PTX, and the up-to-date check (PtxUpToDateTest) is skipped. Regeneration is skipped when the
# outputs are newer than the source and this script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/src/main/cuda/hvp4j.cu"
res="$here/src/main/resources/io/hvp4j/cuda"
if [ "${1:-}" = "--update" ]; then out="$res"; force=1; else out="${1:?usage: build-ptx.sh OUT_DIR | --update}"; force=0; fi

nvcc="$(command -v nvcc || true)"
if [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; fi
if [ -z "$nvcc" ]; then
  echo "cuda-kernels: nvcc not found; packaging the committed PTX (not regenerated)"
  exit 0
fi
mkdir -p "$out"
targets=("sm_90:hvp4j_sm_90.ptx" "compute_75:hvp4j_compute_75.ptx")
if [ "$force" = 0 ]; then
  fresh=1
  for t in "${targets[@]}"; do
    f="$out/${t#*:}"
    if [ ! -f "$f" ] || [ "$src" -nt "$f" ] || [ "$0" -nt "$f" ]; then fresh=0; fi
  done
  if [ "$fresh" = 1 ]; then exit 0; fi
fi
pids=()
for t in "${targets[@]}"; do
  # -lineinfo off, no -G: the PTX must depend on the source and the compiler only.
  "$nvcc" -ptx -arch="${t%%:*}" -o "$out/${t#*:}.tmp" "$src" && mv "$out/${t#*:}.tmp" "$out/${t#*:}" &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ "$status" = 0 ] || exit $status
# Assemble each PTX to machine code as the driver's JIT would (sm_90 and sm_75), so that PTX the assembler
# rejects, or kernels that spill registers, fail here rather than on a GPU.
ptxas="$(dirname "$nvcc")/ptxas"
if [ -x "$ptxas" ] && [ "$force" = 1 ]; then
  for t in "sm_90:hvp4j_sm_90.ptx" "sm_75:hvp4j_compute_75.ptx"; do
    report="$("$ptxas" -arch="${t%%:*}" -v -o /dev/null "$out/${t#*:}" 2>&1)" || { echo "$report"; exit 1; }
    if echo "$report" | grep -E "[1-9][0-9]* bytes spill (stores|loads)" >/dev/null; then
      echo "$report" | grep -B3 -E "[1-9][0-9]* bytes spill"; echo "build-ptx: register spills in ${t#*:}"; exit 1
    fi
  done
fi
if [ "$force" = 1 ]; then
  (cd "$(dirname "$src")" && sha256sum "$(basename "$src")") > "$res/hvp4j.cu.sha256"
fi
