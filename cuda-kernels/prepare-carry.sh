#!/usr/bin/env bash
# Prepares, on a build machine with JDK 25 and Maven, the folder .gpu-carry/ (git-ignored) that gpu-check.sh
# needs on a GPU machine that has neither: a jlink'd JDK 25 runtime (java.base, jdk.incubator.vector,
# java.logging, jdk.unsupported, jdk.zipfs; as .tgz), the shaded CLI jar (engine + CUDA backend + PTX + JCuda driver
# natives), a jar of cuda-kernels' test classes, the JUnit console launcher, this machine's OpenBLAS (with LAPACK;
# the randomized rank's basis GEMMs and dsyevd, as in the CPU reference; with libgfortran and libquadmath) and
# VERSION (commit and date). Fails when the folder, with the files of the tree that travel, exceeds 64 MiB (the
# device tool's limit for everything that travels).
# Usage: cuda-kernels/prepare-carry.sh      then name .gpu-carry in the device tool's carry list. Run it in the
# checkout the session was started in (the device tool sends that one, also when called from a worktree).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/.gpu-carry"
jdk="${JAVA_HOME:-}"
if [ -z "$jdk" ] || ! "$jdk/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
  jdk="$(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -n 1)"
fi
[ -x "$jdk/bin/jlink" ] || { echo "prepare-carry: no JDK 25 with jlink found" >&2; exit 1; }

mvn -B -q package -DskipTests
rm -rf "$out" && mkdir -p "$out"
# jdk.zipfs: the JUnit console scans the test jar through the zip file system (without it: 0 tests found).
"$jdk/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-6 --output "$out/jdk"
tar -C "$out" -czf "$out/jdk.tgz" jdk && rm -rf "$out/jdk"
cp cli/target/hvp4j.jar "$out/hvp4j.jar"
"$jdk/bin/jar" cf "$out/cuda-tests.jar" -C cuda-kernels/target/test-classes .
junit="$(ls ~/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.11.4/junit-platform-console-standalone-1.11.4.jar 2>/dev/null || true)"
if [ -z "$junit" ]; then
  mvn -B -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4
  junit=~/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.11.4/junit-platform-console-standalone-1.11.4.jar
fi
cp "$junit" "$out/junit-console.jar"
blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libopenblas.so.0 2>/dev/null || true)"
if [ -f "$blas" ]; then
  mkdir "$out/blas"
  cp -L "$blas" "$out/blas/libopenblas.so.0"
  for lib in libgfortran.so.5 libquadmath.so.0; do cp -L "/usr/lib/x86_64-linux-gnu/$lib" "$out/blas/"; done
  tar -C "$out/blas" -czf "$out/openblas.tgz" . && rm -rf "$out/blas"
else
  echo "prepare-carry: no OpenBLAS here (apt-get install libopenblas0-pthread): the rank step will use the engine's GEMM and EJML"
fi
echo "$(git describe --always --dirty 2>/dev/null || echo unknown) prepared $(date -u +%FT%TZ)" > "$out/VERSION"
size=$(du -sb "$out" | cut -f1)
tree=$( (git ls-files -z; git ls-files -z -o --exclude-standard) | xargs -0 du -cb 2>/dev/null | awk '$2=="total"{s+=$1} END{print s+0}')
ls -la "$out"
echo "prepare-carry: $out holds $((size / 1048576)) MiB; with the tree that travels $(((size + tree) / 1048576)) MiB"
[ $((size + tree)) -le $((64 * 1048576)) ] || { echo "prepare-carry: over the 64 MiB the device tool carries" >&2; exit 1; }
