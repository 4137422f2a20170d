#!/usr/bin/env bash
# GPU check of the CUDA backend, for a machine with an NVIDIA GPU and a CUDA 13 driver (the device tool's
# machines: no Maven, no JDK, nothing to download). Run from the repository root (or anywhere):
#   cuda-kernels/gpu-check.sh              on the GPU machine, after cuda-kernels/prepare-carry.sh here, with
#                                          .gpu-carry named in the device tool's carry list;
#   cuda-kernels/gpu-check.sh --dry-run    anywhere, without a GPU: every step on --backend cpu (see below), so
#                                          that the GPU call cannot fail on plumbing (cuda-kernels/dry-run.sh runs
#                                          it the way the device tool would and checks what comes back).
# Everything Java comes from .gpu-carry/ (jlink'd JDK 25 runtime, shaded CLI jar, test jar, JUnit console,
# OpenBLAS), also in the dry run, so that the dry run runs what the GPU machine will. Steps, each printed with
# its outcome and time; exits non-zero if any check fails:
#   1. device and driver (nvidia-smi); the carried jar's PTX is the tree's;
#   2. the cuda-kernels tests, @Tag("gpu") included (CudaBackendTest: every kernel vs the scalar reference;
#      CudaProductsTest: loss, gradient, H·v, H_O·v, H_F·v, blocks and layer blocks vs the CPU backend, f64
#      <= 1e-12 and f32 <= 1e-5 relative); a GPU test skipped on the GPU machine is a failure;
#   3. CLI: --backend cuda must open the device; products on a larger network, --backend cuda vs --backend cpu
#      (grad, hessian, ggn, functional, layer block), f64 <= 1e-12 and f32 <= 1e-5 relative (numpy);
#   4. benchmark: HVP and block HVP (16 vectors) for 784,512,512,10 B=1024 and 3072,1024,1024,1024,10 B=4096,
#      f32 (TF32 off) and f64, hvp4j (GpuBenchmark) and PyTorch (gpu/torch_hvp.py, best of double backward and
#      jvp(grad)), synchronized timings / CUDA events, medians; one table (table.md);
#   5. rank at scale: randomized rank of 64,200,200,10 (54,800 parameters, identity, no bias, mse, 100
#      samples, f64) on --backend cuda, the ranks must be 8440 / 640 / 7900 (H / H_O / H_F); speedup against
#      2 CPU cores (RANK_CPU_SECONDS, measured with the dry run on 2 cores; target >= 20x).
# Dry run (--dry-run or GPU_CHECK_DRY_RUN=1): step 1 prints the CPU instead; step 2 expects every GPU test to be
# skipped with its reason; step 3 expects `--backend cuda` to exit 2 with "CUDA not available" (never a silent
# fallback) and compares --backend cpu with itself; step 4 runs the same networks at 1/16 of the batch, 3
# repetitions, hvp4j on cpu and PyTorch on cpu (skipped, with the reason, where no Python has torch); step 5 runs
# on cpu with 2 threads: that run is the CPU reference of the speedup.
# Output in $OUT (device tool) or ./gpu-check-out, at most 5 files, as the device tool brings back: summary.txt
# (this output), table.md, bench.jsonl, rank.json, logs.tgz (every command's log).
# Time: GPU_CHECK_BUDGET seconds in all (default 540: one device call of at most 10 minutes, inside the 15
# minutes of device time); each step runs under `timeout` with what is left; a step that does not fit is
# reported as a failure with the command that runs it alone. GPU_CHECK_STEPS=5 (say) runs only the steps listed
# (default 12345).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dry="${GPU_CHECK_DRY_RUN:-0}"
for a in "$@"; do
  case "$a" in
    --dry-run) dry=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown argument '$a' (--dry-run or --help)" >&2; exit 2 ;;
  esac
done
log="${OUT:-$root/gpu-check-out}"
mkdir -p "$log"
work="$(mktemp -d)"
logs="$work/logs"
mkdir -p "$logs"
exec > >(tee "$log/summary.txt") 2>&1
tee_pid=$!
finish() {
  tar -C "$work" -czf "$log/logs.tgz" logs 2>/dev/null
  rm -rf "$work"
  exec >&- 2>&-
  wait "$tee_pid" 2>/dev/null
}
trap finish EXIT

t0=$SECONDS
budget="${GPU_CHECK_BUDGET:-540}"
steps="${GPU_CHECK_STEPS:-12345}"
fail=0
want() { [[ "$steps" == *"$1"* ]]; }
left() { echo $((budget - (SECONDS - t0))); }
step_t0=$SECONDS
step_no=""
step() { echo; echo "=== $* (at $((SECONDS - t0)) s)"; step_t0=$SECONDS; step_no="${1%%.*}"; }
took() { echo "--- step took $((SECONDS - step_t0)) s"; }
result() {
  if [ "$1" = 0 ]; then echo "--- PASS: $2"; return; fi
  fail=1
  case "$1" in
    124|137) echo "--- FAIL: $2 (timed out: out of GPU_CHECK_BUDGET=$budget s; GPU_CHECK_STEPS=$step_no runs the step alone)" ;;
    *) echo "--- FAIL: $2 (exit $1)" ;;
  esac
}
# cap SECONDS: the time a step may take on the GPU (times GPU_CHECK_CAP_SCALE: 1, or 30 in a dry run on the
# CPU), at most what is left of the budget (0 when nothing is).
cap() {
  local l c=$(($1 * ${GPU_CHECK_CAP_SCALE:-1}))
  l=$(left); [ "$l" -lt "$c" ] && echo $((l > 0 ? l : 0)) || echo "$c"
}
# fits SECONDS STEP: true when at least SECONDS are left, else a FAIL saying how to run the step alone.
fits() {
  [ "$(left)" -ge "$1" ] && return 0
  result 1 "step $2 skipped: $(left) s left of GPU_CHECK_BUDGET=$budget, it needs >= $1 s (run GPU_CHECK_STEPS=$2 alone)"
  return 1
}
if [ "$dry" = 1 ]; then
  be=cpu; export GPU_CHECK_CAP_SCALE="${GPU_CHECK_CAP_SCALE:-30}"
  echo "gpu-check: DRY RUN on the CPU backend (no GPU needed; step time limits x $GPU_CHECK_CAP_SCALE)"
else
  be=cuda
fi
echo "gpu-check: steps $steps, budget $budget s, output in $log"

# ------------------------------------------------------------------------------------------------ Java
carry="$root/.gpu-carry"
for f in hvp4j.jar jdk.tgz cuda-tests.jar junit-console.jar; do
  [ -f "$carry/$f" ] || { echo "gpu-check: no .gpu-carry/$f: run cuda-kernels/prepare-carry.sh first (and carry .gpu-carry)"; exit 1; }
done
[ -f "$carry/VERSION" ] && echo "gpu-check: carry $(cat "$carry/VERSION")"
tar -C "$work" -xzf "$carry/jdk.tgz" && java="$work/jdk/bin/java" && [ -x "$java" ] \
  || { echo "gpu-check: .gpu-carry/jdk.tgz did not unpack to a java"; exit 1; }
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
jar="$carry/hvp4j.jar"
echo "gpu-check: carried java: $("$java" -version 2>&1 | head -n 1)"
hv=("$java" "${flags[@]}" -jar "$jar")
# OpenBLAS (GEMMs of the randomized basis, LAPACK dsyevd): the carried copy, the library of the CPU reference.
# Only the rank's JVM gets its folder on LD_LIBRARY_PATH (libgfortran), so that Python and torch keep their own.
blas_env=()
if [ -f "$carry/openblas.tgz" ]; then
  mkdir -p "$work/blas" && tar -C "$work/blas" -xzf "$carry/openblas.tgz"
  export HVP4J_BLAS_LIB="$work/blas/libopenblas.so.0" HVP4J_LAPACK_LIB="$work/blas/libopenblas.so.0"
  blas_env=(env "LD_LIBRARY_PATH=$work/blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
fi
export CUDA_CACHE_PATH="${CUDA_CACHE_PATH:-/tmp/hvp4j-cuda-cache}" # the driver's JIT cache of the PTX
# Python with numpy (and torch for step 4): $PYTHON, else python3, else /usr/bin/python3 (Debian's python3-torch).
python=""
for py in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import numpy' >/dev/null 2>&1; then
    [ -z "$python" ] && python="$py"
    if "$py" -c 'import torch' >/dev/null 2>&1; then python="$py"; break; fi
  fi
done
[ -n "$python" ] || { echo "gpu-check: no python3 with numpy"; exit 1; }

# ------------------------------------------------------------------------------------------------ 1
if want 1; then
  step "1. device"
  if [ "$dry" = 1 ]; then
    echo "(dry run: no nvidia-smi) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) CPUs" \
      | tee "$logs/device.txt"
  else
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$logs/device.txt"
    result "${PIPESTATUS[0]}" "nvidia-smi"
  fi
  # The kernels in the carried jar must be the tree's (a carry prepared from other sources measures other code).
  "$python" - "$jar" "$root/cuda-kernels/src/main/resources/io/hvp4j/cuda" <<'PY'
import sys, zipfile, os
jar, res = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(jar) as z:
    bad = [f for f in ("hvp4j_sm_90.ptx", "hvp4j_compute_75.ptx")
           if z.read("io/hvp4j/cuda/" + f) != open(os.path.join(res, f), "rb").read()]
print("carried jar's PTX: " + ("differs from the tree's: " + ", ".join(bad) if bad else "same as the tree's"))
sys.exit(1 if bad else 0)
PY
  result $? "the carried jar holds the tree's PTX (else rerun cuda-kernels/prepare-carry.sh)"
  took
fi

# ------------------------------------------------------------------------------------------------ 2
if want 2 && fits 60 2; then
  step "2. cuda-kernels tests with the gpu tag"
  report="$logs/tests-cuda-kernels.txt"
  # Tests read module files (e.g. src/main/cuda/hvp4j.cu) relative to the module directory, as under Maven.
  (cd "$root/cuda-kernels" && timeout -k 10 "$(cap 200)" "$java" "${flags[@]}" -Xss4m \
      -jar "$carry/junit-console.jar" execute --class-path "$jar:$carry/cuda-tests.jar" \
      --scan-class-path="$carry/cuda-tests.jar" --exclude-tag=slow --details=tree --disable-banner \
      --disable-ansi-colors 2>&1) > "$report"
  status=$?
  grep -A12 "Test run finished" "$report"
  result "$status" "cuda-kernels tests (tree in logs/tests-cuda-kernels.txt)"
  # A runtime that cannot scan the test jar finds no tests and passes: count them (61 on 2026-12-06).
  found=$(sed -n 's/^\[ *\([0-9]*\) tests found.*/\1/p' "$report")
  [ "${found:-0}" -ge 60 ]
  result $? "${found:-no} cuda-kernels tests found (at least 60 expected)"
  # Every skipped (aborted, ■) test states its reason: JUnit's default "assumption is not true" is none.
  mute=$(grep "■" "$report" | grep -c -E "■ *$|Assumption failed: (assumption is not true)? *$")
  echo "skipped tests: $(grep -c "■" "$report"), of which without a reason: $mute"
  [ "$mute" = 0 ]
  result $? "every skipped cuda-kernels test states its reason"
  gpu_skips=$(grep -c "no usable CUDA device" "$report")
  if [ "$dry" = 1 ]; then
    # Every GPU test must say why it was skipped: CudaBackendTest and CudaProductsTest, 51 tests.
    echo "GPU tests skipped with the reason 'no usable CUDA device (...)': $gpu_skips"
    grep -m1 -o "no usable CUDA device ([^)]*)*" "$report"
    [ "$gpu_skips" -ge 51 ]
    result $? "dry run: every GPU test skipped with its reason"
  elif [ "$gpu_skips" -gt 0 ]; then
    grep -m1 -o "no usable CUDA device.*" "$report"
    result 1 "$gpu_skips GPU tests were skipped (no usable CUDA device)"
  fi
  took
fi

# ------------------------------------------------------------------------------------------------ 3
if want 3 && fits 30 3; then
  step "3. CLI: --backend $be vs --backend cpu"
  end=$((SECONDS + $(cap 200)))
  late=0
  run() {
    local t=$((end - SECONDS)) s
    [ "$t" -gt 0 ] || { late=1; return 124; }
    timeout -k 5 "$t" "${hv[@]}" "$@"; s=$?
    [ "$s" = 124 ] || [ "$s" = 137 ] && late=1
    return $s
  }
  run hvp --backend cuda --arch 4,3,2 --data gaussian:8 --out "$work/probe.npy" > "$logs/cli-probe.txt" 2>&1
  status=$?
  grep -v "^WARNING: Using incubator" "$logs/cli-probe.txt"
  if [ "$dry" = 1 ]; then
    [ "$status" = 2 ] && grep -q "^hvp4j: error: CUDA not available: " "$logs/cli-probe.txt"
    result $? "dry run: --backend cuda without a GPU exits 2 with 'CUDA not available' (no fallback)"
  else
    result $status "hvp4j opens the CUDA backend"
  fi
  "$python" - "$work" <<'PY'
import numpy as np, sys
rng = np.random.default_rng(0)
P = 784*128 + 128 + 128*64 + 64 + 64*10 + 10
for k in (1, 4):
    np.save(f"{sys.argv[1]}/v{k}.npy", rng.standard_normal((P, k)) if k > 1 else rng.standard_normal(P))
np.save(f"{sys.argv[1]}/vl.npy", rng.standard_normal(128*64 + 64))
PY
  common=(--arch 784,128,64,10 --act tanh --loss ce --data gaussian:2048 --batch-size 512 --seed 3)
  for dt in f64 f32; do
    for side in test ref; do
      b=cpu; [ "$side" = test ] && b=$be
      run grad "${common[@]}" --dtype $dt --backend $b --out "$work/g-$side-$dt.npy" >>"$logs/cli.txt" 2>&1
      for prod in hessian ggn functional; do
        run hvp "${common[@]}" --dtype $dt --backend $b --product $prod --vector "$work/v1.npy" \
          --out "$work/$prod-$side-$dt.npy" >>"$logs/cli.txt" 2>&1
        run hvp "${common[@]}" --dtype $dt --backend $b --product $prod --vector "$work/v4.npy" \
          --out "$work/${prod}4-$side-$dt.npy" >>"$logs/cli.txt" 2>&1
      done
      run hvp "${common[@]}" --dtype $dt --backend $b --layer 1 --vector "$work/vl.npy" \
        --out "$work/layer-$side-$dt.npy" >>"$logs/cli.txt" 2>&1
    done
  done
  "$python" - "$work" "$be" <<'PY'
import numpy as np, sys, os
w, be = sys.argv[1], sys.argv[2]; bad = 0
names = [f"{p}-{{}}-{dt}.npy" for dt in ("f64", "f32")
         for p in ("g", "hessian", "ggn", "functional", "hessian4", "ggn4", "functional4", "layer")]
for name in names:
    tol = 1e-12 if "f64" in name else 1e-5
    test, ref = f"{w}/{name.format('test')}", f"{w}/{name.format('ref')}"
    if not (os.path.exists(test) and os.path.exists(ref)):
        print(f"FAIL {name.format(be):24s} missing output (see logs/cli.txt)"); bad += 1; continue
    a, b = np.load(test).astype(np.float64), np.load(ref).astype(np.float64)
    rel = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)
    ok = rel <= tol; bad += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name.format(be):24s} vs cpu: relative difference {rel:.3e} (limit {tol:g})")
sys.exit(1 if bad else 0)
PY
  result $? "CLI products agree, 16 outputs (commands' output in logs/cli.txt)"
  [ "$late" = 0 ] || result 124 "CLI commands"
  took
fi

# ------------------------------------------------------------------------------------------------ 4
if want 4 && fits 60 4; then
  step "4. benchmark"
  end=$((SECONDS + $(cap 200)))
  reps=(30 5); div=1; tdev=cuda
  [ "$dry" = 1 ] && { reps=(3 1); div=16; tdev=cpu; echo "(dry run: batches / 16, 3 repetitions, CPU)"; }
  torch_ok=1
  if ! "$python" -c 'import torch' >/dev/null 2>&1; then
    torch_ok=0
    if [ "$dry" = 1 ]; then echo "(dry run: PyTorch part skipped: no Python with torch found; apt-get install python3-torch)"
    else result 1 "no Python with torch (the peer)"; fi
  fi
  bench="$log/bench.jsonl"; : > "$bench"
  for cfg in "784,512,512,10 1024" "3072,1024,1024,1024,10 4096"; do
    set -- $cfg; arch=$1; batch=$(($2 / div))
    for dt in f32 f64; do
      t=$((end - SECONDS)); [ "$t" -gt 0 ] || t=1
      timeout -k 5 "$t" "$java" "${flags[@]}" -cp "$jar" io.hvp4j.cuda.GpuBenchmark $arch $batch $dt "${reps[@]}" $be \
        2>>"$logs/bench-err.txt" | tee -a "$bench"
      result "${PIPESTATUS[0]}" "hvp4j benchmark $arch B=$batch $dt (errors in logs/bench-err.txt)"
      [ "$torch_ok" = 1 ] || continue
      t=$((end - SECONDS)); [ "$t" -gt 0 ] || t=1
      PYTHONUNBUFFERED=1 timeout -k 5 "$t" "$python" "$root/cuda-kernels/gpu/torch_hvp.py" $arch $batch $dt \
        "${reps[@]}" $tdev 2>>"$logs/bench-err.txt" | tee -a "$bench"
      result "${PIPESTATUS[0]}" "PyTorch benchmark $arch B=$batch $dt on $tdev"
    done
  done
  echo
  "$python" "$root/cuda-kernels/gpu/table.py" < "$bench" | tee "$log/table.md"
  took
fi

# ------------------------------------------------------------------------------------------------ 5
# CPU reference: the dry run's step 5 on 2 threads of an AMD EPYC (Zen 3) with 2 vCPUs, 2026-12-06, the JSON's
# "seconds" (H + H_O + H_F inside the command; cuda-kernels/README.md, "Dry run").
rank_cpu="${RANK_CPU_SECONDS:-468}"
# GPU_CHECK_RANK_ARCH (a smaller network, say 64,20,20,10) tries the step's plumbing quickly; its ranks must then
# equal the closed-form predictions the JSON holds, and no speedup is computed.
rank_arch="${GPU_CHECK_RANK_ARCH:-64,200,200,10}"
if want 5 && fits 60 5; then
  step "5. rank at scale: $rank_arch, 100 samples, f64, randomized, --backend $be"
  threads=(); [ "$dry" = 1 ] && threads=(--threads 2)
  s=$SECONDS
  timeout -k 10 "$(cap 1200)" "${blas_env[@]}" "${hv[@]}" rank --arch "$rank_arch" --act identity --no-bias --loss mse \
    --data gaussian:100 --method randomized --backend $be "${threads[@]}" --json \
    > "$log/rank.json" 2> "$logs/rank-err.txt"
  status=$?
  wall=$((SECONDS - s))
  grep -v "^WARNING: Using incubator" "$logs/rank-err.txt" | tr '\r' '\n' | grep -v '^ *$' | tail -5
  result $status "hvp4j rank --backend $be (${wall} s wall; JSON in rank.json)"
  [ "$dry" = 1 ] && rank_cpu=0
  "$python" - "$log/rank.json" "$rank_cpu" "$be" "$wall" "$rank_arch" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"FAIL rank.json unreadable: {e}"); sys.exit(1)
cpu, be, wall, arch = float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
scale = arch == "64,200,200,10"
want = {"H": 8440, "H_O": 640, "H_F": 7900} if scale else {k: (r.get("predicted") or {}).get(k) for k in ("H", "H_O", "H_F")}
ok = r.get("rank") == want
print(f"{'ok  ' if ok else 'FAIL'} ranks {r.get('rank')} (expected {want}); eigensolver {r.get('eigensolver')};"
      f" {r.get('seconds')} s inside the command, {wall} s wall")
if be == "cpu":
    print(f"CPU reference for RANK_CPU_SECONDS: {r.get('seconds')}")
elif cpu > 0 and scale:
    speedup = cpu / float(r["seconds"]) if isinstance(r.get("seconds"), (int, float)) else float("nan")
    print(f"{'ok  ' if speedup >= 20 else 'MISS'} speedup over 2 CPU cores: {speedup:.1f}x (target >= 20x;"
          f" CPU {cpu:g} s)")
sys.exit(0 if ok else 1)
PY
  result $? "ranks $([ "$rank_arch" = 64,200,200,10 ] && echo "8440 / 640 / 7900" || echo "as predicted")"
  took
fi

echo
echo "gpu-check: $((SECONDS - t0)) s in all"
[ "$fail" = 0 ] && echo "gpu-check: all checks passed" || echo "gpu-check: SOME CHECKS FAILED"
exit $fail
