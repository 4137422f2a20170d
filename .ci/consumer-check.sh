#!/usr/bin/env bash
# The README's "Library use" example as a user meets it: installs the engine (mvn install, tests skipped), makes a
# fresh Maven project from the section's `xml` block (the dependency) and its first `java` block (the class),
# builds and runs it with the section's `sh` block verbatim (offline: only the installed artifacts), and checks the
# printed numbers. With --reference FILE (the line ReadmeLibraryExampleTest checked against a dense eigensolver and
# finite differences, engine/target/readme-library-example.txt after `mvn verify`) the numbers must equal it to the
# 7 printed digits. Fails, never skips, when a tool is missing. Usage: .ci/consumer-check.sh [--reference FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

reference=""
if [ "${1:-}" = "--reference" ]; then
  reference="$(readlink -f "$2")"
  [ -f "$reference" ] || { echo "consumer-check: no reference file $2 (run mvn verify first)" >&2; exit 1; }
fi
command -v mvn >/dev/null || { echo "consumer-check: mvn is not on PATH" >&2; exit 1; }

# The engine's class files need JDK 25 to compile against and run (the consumer has no toolchains plugin).
jdk=""
for home in "${JAVA_HOME:-}" /usr/lib/jvm/*25*; do
  if [ -n "$home" ] && "$home/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then jdk="$home"; break; fi
done
[ -n "$jdk" ] || { echo "consumer-check: no JDK 25 (JAVA_HOME or /usr/lib/jvm/*25*)" >&2; exit 1; }
export JAVA_HOME="$jdk" PATH="$jdk/bin:$PATH"

# The section's fenced blocks: the first of each language between "## Library use" and the next "## " heading.
block() {
  awk -v lang="$1" '
    /^## / { in_section = ($0 == "## Library use") }
    in_section && !done && $0 == "```" lang { grab = 1; next }
    grab && $0 == "```" { grab = 0; done = 1 }
    grab { print }' README.md
}
dependency="$(block xml)"
example="$(block java)"
commands="$(block sh)"
for b in dependency example commands; do
  [ -n "${!b}" ] || { echo "consumer-check: README Library use has no $b block" >&2; exit 1; }
done
class="$(printf '%s\n' "$example" | sed -n 's/^public class \([A-Za-z0-9_]*\).*/\1/p' | head -n 1)"
[ -n "$class" ] || { echo "consumer-check: the java block declares no public class" >&2; exit 1; }

mvn -B -q install -pl engine -am -DskipTests
version="$(printf '%s\n' "$dependency" | sed -n 's:.*<version>\(.*\)</version>.*:\1:p')"
for kind in "" -sources -javadoc; do
  jar="$HOME/.m2/repository/io/hvp4j/hvp4j-engine/$version/hvp4j-engine-$version$kind.jar"
  [ -f "$jar" ] || { echo "consumer-check: mvn install made no $jar" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/main/java" "$work/.mvn"
printf '%s\n' "$example" > "$work/src/main/java/$class.java"
# Offline: the consumer sees only what is installed. Plugin versions are the ones the project's own build
# resolved (a clean machine has no others cached).
printf '%s\n' '-o' '-B' > "$work/.mvn/maven.config"
cat > "$work/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>hvp4j-consumer</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.release>25</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
$dependency
  </dependencies>
  <build>
    <plugins>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>2.6</version></plugin>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
    </plugins>
  </build>
</project>
EOF

out="$(cd "$work" && timeout 300 bash -euo pipefail -c "$commands")"
printf '%s\n' "$out"

# The class's line: P, the loss, Hv[0] and the top eigenvalue, all finite; with a reference, equal to it.
check() {
  awk -v ref="$1" '
    function num(s) { return s ~ /^[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
    /^P=[0-9]+ loss=/ {
      found = 1
      split($0, f, /[ =]/)
      p = f[2]; loss = f[4]; hv = f[6]; top = f[length(f)]
      if (!num(loss) || !num(hv) || !num(top)) { print "consumer-check: not finite numbers: " $0; exit 1 }
      if (ref != "") {
        split(ref, r, /[ =]/)
        n = split(p " " loss " " hv " " top, got, " ")
        split(r[2] " " r[4] " " r[6] " " r[length(r)], want, " ")
        for (i = 1; i <= n; i++) {
          d = got[i] - want[i]; if (d < 0) d = -d
          w = want[i] < 0 ? -want[i] : want[i]
          if (d > 1e-6 * w + 1e-12) { print "consumer-check: " got[i] " differs from the checked " want[i]; exit 1 }
        }
      }
    }
    END { if (!found) { print "consumer-check: no P=... line in the output"; exit 1 } }'
}
ref_line=""
[ -n "$reference" ] && ref_line="$(grep '^P=' "$reference" | head -n 1)"
# (Maven 3.8's -q still writes colour resets, without a newline, before the class's own output.)
printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' | check "$ref_line"
echo "consumer-check: ok ($class built against the installed hvp4j-engine $version and run)"
