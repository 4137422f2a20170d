#!/usr/bin/env bash
# The standalone-cluster check (run by CI after mvn verify, which builds spark/target): starts spark/cluster.sh (a
# master and two worker JVMs on 127.0.0.1), runs the same eigs in-process, with --spark local[2] and on the cluster
# (each through ./hvp4j, and the cluster run once more through spark-submit with spark/target/hvp4j-spark.jar), and
# requires the top eigenvalues to agree to 1e-9 relative (f64). Stops the cluster on exit. About a minute.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/hvp4j-cluster.XXXXXX")"
trap 'spark/cluster.sh stop; rm -rf "$TMP"' EXIT

# 600 samples, 10 inputs and a class label (0..2) per CSV row, from a fixed awk seed.
awk 'BEGIN { srand(7); for (i = 0; i < 600; i++) { s = ""; for (j = 0; j < 10; j++) s = s sprintf("%.6f,", 2 * rand() - 1); print s int(3 * rand()) } }' >"$TMP/data.csv"
ARGS=(eigs --arch 10,16,3 --inputs "$TMP/data.csv" --top 3 --threads 1 --json)

URL="$(spark/cluster.sh start | tail -n 1)"
echo "cluster: $URL"
./hvp4j "${ARGS[@]}" >"$TMP/here.json"
./hvp4j "${ARGS[@]}" --spark 'local[2]' --partitions 2 >"$TMP/local.json"
./hvp4j "${ARGS[@]}" --spark "$URL" --partitions 2 >"$TMP/cluster.json"

java=""
for j in "${JAVA_HOME:-}" /usr/lib/jvm/*25*; do
    if [ -n "$j" ] && [ -x "$j/bin/java" ] && "$j/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
        java="$j/bin/java"
        break
    fi
done
[ -n "$java" ] || { echo "cluster-check: JDK 25 or newer is required (set JAVA_HOME)" >&2; exit 2; }
OPTS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
# spark-submit is a script around this class; the check runs the class from the same jars (its log, Spark's
# default INFO profile, goes to a file).
# shellcheck disable=SC2086
SPARK_LOCAL_IP=127.0.0.1 "$java" $OPTS -cp "spark/target/jars/*" org.apache.spark.deploy.SparkSubmit \
    --master "$URL" --conf spark.driver.host=127.0.0.1 --conf "spark.driver.extraJavaOptions=$OPTS" \
    --conf "spark.executor.extraJavaOptions=$OPTS" --class io.hvp4j.cli.Main spark/target/hvp4j-spark.jar \
    "${ARGS[@]}" --spark "$URL" --partitions 2 >"$TMP/submit.json" 2>"$TMP/submit.log" \
    || { cat "$TMP/submit.log" >&2; echo "cluster-check: spark-submit failed" >&2; exit 1; }

top() { grep -o '"top" *: *\[[^]]*\]' "$1" | grep -o '"value" *: *[-0-9.eE+]*' | sed 's/.*: *//'; }
for run in local cluster submit; do
    paste <(top "$TMP/here.json") <(top "$TMP/$run.json") | awk -v run="$run" '
        { n++; d = $1 - $2; if (d < 0) d = -d; s = $1 < 0 ? -$1 : $1; if (d > 1e-9 * s) { bad = 1 }
          printf "%s: %s vs %s (relative difference %.1e)\n", run, $1, $2, d / s }
        END { if (n != 3 || bad) { print run ": FAILED"; exit 1 } }'
done
echo "cluster check: ok"
