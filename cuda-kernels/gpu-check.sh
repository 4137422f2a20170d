#!/usr/bin/env bash
# GPU check of the CUDA backend, for a machine with an NVIDIA GPU and a CUDA 13 driver. Run from the repository
# root (or anywhere). Uses Maven and JDK 25 when both are there, otherwise the carried .gpu-carry/ made by
# cuda-kernels/prepare-carry.sh. Steps, each printed with its outcome; exits non-zero if any check fails:
#   1. device and driver (nvidia-smi), CUDA probe through the CLI (--backend cuda must open the device);
#   2. test suites: engine + cuda-kernels, @Tag("gpu") included (CudaBackendTest: every kernel vs the scalar
#      reference; CudaProductsTest: loss, gradient, H·v, H_O·v, H_F·v, blocks and layer blocks vs the CPU
#      backend, f64 <= 1e-12 and f32 <= 1e-5 relative), with Maven: the whole reactor with -Pgpu;
#   3. CLI products on a larger network, --backend cuda vs --backend cpu (grad, hessian, ggn, functional,
#      layer block), f64 <= 1e-12 and f32 <= 1e-5 relative (numpy);
#   4. benchmark: HVP and block HVP (16 vectors) for 784,512,512,10 B=1024 and 3072,1024,1024,1024,10 B=4096,
#      f32 (TF32 off) and f64, hvp4j (GpuBenchmark) and PyTorch (gpu/torch_hvp.py, best of double backward and
#      jvp(grad)), synchronized timings / CUDA events, medians; one table at the end.
# Logs go to $OUT when set (device tool), else to ./gpu-check-out. GPU_CHECK_STEPS=234 (say) runs only the
# steps listed (default 1234), to split the work over calls of at most 10 minutes.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
log="${OUT:-$root/gpu-check-out}"
mkdir -p "$log"
fail=0
steps="${GPU_CHECK_STEPS:-1234}"
want() { [[ "$steps" == *"$1"* ]]; }
step() { echo; echo "=== $*"; }
result() { if [ "$1" = 0 ]; then echo "--- PASS: $2"; else echo "--- FAIL: $2 (exit $1)"; fail=1; fi; }

step "1. device"
want 1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$log/device.txt"

# Java: JDK 25 on the machine, else the carried jlink runtime.
java=""
for j in "${JAVA_HOME:-}/bin/java" $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null); do
  if [ -x "$j" ] && "$j" -version 2>&1 | grep -q 'version "2[5-9]'; then java="$j"; break; fi
done
carry="$root/.gpu-carry"
if [ -z "$java" ] && [ -f "$carry/jdk.tgz" ]; then
  mkdir -p /tmp/hvp4j-jdk && tar -C /tmp/hvp4j-jdk -xzf "$carry/jdk.tgz" && java=/tmp/hvp4j-jdk/jdk/bin/java
fi
[ -n "$java" ] || { echo "gpu-check: no JDK 25 and no .gpu-carry/jdk.tgz (run cuda-kernels/prepare-carry.sh first)"; exit 1; }
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
if [ -f "$carry/hvp4j.jar" ]; then jar="$carry/hvp4j.jar"; else jar="$root/cli/target/hvp4j.jar"; fi
hvp4j() { "$java" "${flags[@]}" -jar "$jar" "$@"; }

step "2. test suites with the CUDA tests"
if ! want 2; then
  echo "(skipped)"
elif command -v mvn >/dev/null 2>&1 && [ -z "${GPU_CHECK_CARRIED:-}" ]; then
  mvn -B verify -Pgpu 2>&1 | tee "$log/mvn-verify.txt" | grep -E "Tests run:|FAIL|ERROR|skipped" | tail -40
  result "${PIPESTATUS[0]}" "mvn verify -Pgpu"
  jar="$root/cli/target/hvp4j.jar"
else
  for suite in engine cuda-kernels; do
    tests="$carry/engine-tests.jar"; [ "$suite" = cuda-kernels ] && tests="$carry/cuda-tests.jar"
    # Tests read module files (e.g. src/main/cuda/hvp4j.cu) relative to the module directory, as under Maven.
    (cd "$root/$suite" && "$java" "${flags[@]}" -Xss4m -jar "$carry/junit-console.jar" execute \
        --class-path "$jar:$tests" --scan-class-path="$tests" --exclude-tag=slow \
        --details=tree --disable-banner 2>&1) > "$log/tests-$suite.txt"
    status=$?
    grep -A12 "Test run finished" "$log/tests-$suite.txt"
    result "$status" "$suite tests (gpu tag included; tree in $log/tests-$suite.txt)"
  done
fi
# On a GPU machine a skipped GPU test is a failure: the reason is the probe's.
if grep -h -m1 "no usable CUDA device" "$log"/tests-*.txt "$log"/mvn-verify.txt 2>/dev/null; then
  result 1 "GPU tests were skipped (no usable CUDA device)"
fi

step "3. CLI: --backend cuda vs --backend cpu"
if want 3; then
work="$(mktemp -d)"
hvp4j hvp --backend cuda --arch 4,3,2 --data gaussian:8 --out "$work/probe.npy" >"$log/cli-probe.txt" 2>&1
status=$?
grep -v "^WARNING: Using incubator" "$log/cli-probe.txt"
result $status "hvp4j opens the CUDA backend"
python3 - "$work" <<'PY' >/dev/null 2>&1 || true
import numpy as np, sys
rng = np.random.default_rng(0)
P = 784*128 + 128 + 128*64 + 64 + 64*10 + 10
for k in (1, 4):
    np.save(f"{sys.argv[1]}/v{k}.npy", rng.standard_normal((P, k)) if k > 1 else rng.standard_normal(P))
np.save(f"{sys.argv[1]}/vl.npy", rng.standard_normal(128*64 + 64))
PY
common=(--arch 784,128,64,10 --act tanh --loss ce --data gaussian:2048 --batch-size 512 --seed 3)
for dt in f64 f32; do
  for be in cuda cpu; do
    hvp4j grad "${common[@]}" --dtype $dt --backend $be --out "$work/g-$be-$dt.npy" >>"$log/cli.txt" 2>&1
    for prod in hessian ggn functional; do
      hvp4j hvp "${common[@]}" --dtype $dt --backend $be --product $prod --vector "$work/v1.npy" \
        --out "$work/$prod-$be-$dt.npy" >>"$log/cli.txt" 2>&1
      hvp4j hvp "${common[@]}" --dtype $dt --backend $be --product $prod --vector "$work/v4.npy" \
        --out "$work/${prod}4-$be-$dt.npy" >>"$log/cli.txt" 2>&1
    done
    hvp4j hvp "${common[@]}" --dtype $dt --backend $be --layer 1 --vector "$work/vl.npy" \
      --out "$work/layer-$be-$dt.npy" >>"$log/cli.txt" 2>&1
  done
done
python3 - "$work" <<'PY'
import numpy as np, sys, glob, os
w = sys.argv[1]; bad = 0
for f in sorted(glob.glob(f"{w}/*-cuda-*.npy")):
    name = os.path.basename(f).replace("-cuda-", "-cpu-")
    tol = 1e-12 if f.endswith("f64.npy") else 1e-5
    a, b = np.load(f).astype(np.float64), np.load(f"{w}/{name}").astype(np.float64)
    rel = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)
    ok = rel <= tol; bad += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(f):28s} relative difference {rel:.3e} (limit {tol:g})")
sys.exit(1 if bad else 0)
PY
result $? "CLI products agree (see $log/cli.txt for the commands' output)"
fi

step "4. benchmark"
if want 4; then
bench="$log/bench.jsonl"; : > "$bench"
for cfg in "784,512,512,10 1024" "3072,1024,1024,1024,10 4096"; do
  for dt in f32 f64; do
    "$java" "${flags[@]}" -cp "$jar" io.hvp4j.cuda.GpuBenchmark $cfg $dt 2>>"$log/bench-err.txt" | tee -a "$bench"
    result "${PIPESTATUS[0]}" "hvp4j benchmark $cfg $dt (errors in $log/bench-err.txt)"
    PYTHONUNBUFFERED=1 python3 "$root/cuda-kernels/gpu/torch_hvp.py" $cfg $dt 2>>"$log/bench-err.txt" | tee -a "$bench"
    result "${PIPESTATUS[0]}" "PyTorch benchmark $cfg $dt"
  done
done
echo
python3 "$root/cuda-kernels/gpu/table.py" < "$bench" | tee "$log/table.md"
fi
echo
[ "$fail" = 0 ] && echo "gpu-check: all checks passed" || echo "gpu-check: SOME CHECKS FAILED"
exit $fail
