#!/usr/bin/env bash
# Prepares, on a build machine with JDK 25 and Maven, the folder .gpu-carry/ (git-ignored) that gpu-check.sh
# needs on a GPU machine that has neither: a jlink'd JDK 25 runtime (java.base, jdk.incubator.vector,
# java.logging, jdk.unsupported; as .tgz), the shaded CLI jar (engine + CUDA backend + PTX + JCuda driver
# natives), jars of the engine's and cuda-kernels' test classes and the JUnit console launcher. Fails when the
# folder exceeds 64 MiB (the device tool's limit for everything that travels).
# Usage: cuda-kernels/prepare-carry.sh      then name .gpu-carry in the device tool's carry list.
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
"$jdk/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported \
  --strip-debug --no-header-files --no-man-pages --compress=zip-6 --output "$out/jdk"
tar -C "$out" -czf "$out/jdk.tgz" jdk && rm -rf "$out/jdk"
cp cli/target/hvp4j.jar "$out/hvp4j.jar"
"$jdk/bin/jar" cf "$out/engine-tests.jar" -C engine/target/test-classes .
"$jdk/bin/jar" cf "$out/cuda-tests.jar" -C cuda-kernels/target/test-classes .
junit="$(ls ~/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.11.4/junit-platform-console-standalone-1.11.4.jar 2>/dev/null || true)"
if [ -z "$junit" ]; then
  mvn -B -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4
  junit=~/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.11.4/junit-platform-console-standalone-1.11.4.jar
fi
cp "$junit" "$out/junit-console.jar"
size=$(du -sb "$out" | cut -f1)
ls -la "$out"
echo "prepare-carry: $out holds $((size / 1048576)) MiB"
[ "$size" -le $((64 * 1048576)) ] || { echo "prepare-carry: over the 64 MiB carry limit" >&2; exit 1; }
