#!/usr/bin/env bash
# A real Spark standalone cluster on 127.0.0.1 from the project's own Maven jars (no Spark download):
#   spark/cluster.sh start   a master and two workers (1 core, 2 GiB each), each its own JVM; the last line printed
#                            is the master URL, spark://127.0.0.1:PORT
#   spark/cluster.sh stop    ends exactly those processes (their pid files), nothing else
# State, logs and the executors' work directories: spark/target/cluster/. Needs spark/target/jars (built when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/spark/target/cluster"
JARS="$ROOT/spark/target/jars"

java_bin() {
    local j
    for j in "${JAVA_HOME:-}" /usr/lib/jvm/*25*; do
        if [ -n "$j" ] && [ -x "$j/bin/java" ] && "$j/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
            echo "$j/bin/java"
            return
        fi
    done
    echo "cluster.sh: JDK 25 or newer is required (set JAVA_HOME)" >&2
    exit 2
}

OPENS=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)

stop() {
    local f pid
    for f in "$STATE"/*.pid; do
        [ -f "$f" ] || continue
        pid="$(cat "$f")"
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$f"
    done
}

start() {
    local java port url n
    java="$(java_bin)"
    if [ ! -d "$JARS" ]; then
        echo "cluster.sh: building spark/target/jars (mvn -q -B -DskipTests -pl spark -am package) ..." >&2
        (cd "$ROOT" && JAVA_HOME="$(dirname "$(dirname "$java")")" mvn -q -B -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl spark -am package) >&2
    fi
    if ls "$STATE"/*.pid >/dev/null 2>&1; then
        echo "cluster.sh: a cluster from $STATE is running; run '$0 stop' first" >&2
        exit 2
    fi
    mkdir -p "$STATE"
    export SPARK_LOCAL_IP=127.0.0.1 SPARK_HOME="$ROOT/spark/target" SPARK_SCALA_VERSION=2.13
    "$java" "${OPENS[@]}" -Xmx512m -cp "$JARS/*" org.apache.spark.deploy.master.Master \
        --host 127.0.0.1 --port 0 --webui-port 0 >"$STATE/master.log" 2>&1 &
    echo $! >"$STATE/master.pid"
    url=""
    for _ in $(seq 1 300); do
        url="$(sed -n 's/.*Starting Spark master at \(spark:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$STATE/master.log" | head -n 1)"
        [ -n "$url" ] && break
        kill -0 "$(cat "$STATE/master.pid")" 2>/dev/null || break
        sleep 0.2
    done
    if [ -z "$url" ]; then
        echo "cluster.sh: the master did not start (see $STATE/master.log)" >&2
        stop
        exit 1
    fi
    for n in 1 2; do
        mkdir -p "$STATE/work-$n"
        "$java" "${OPENS[@]}" -Xmx512m -cp "$JARS/*" org.apache.spark.deploy.worker.Worker \
            --host 127.0.0.1 --cores 1 --memory 2g --webui-port 0 --work-dir "$STATE/work-$n" "$url" \
            >"$STATE/worker-$n.log" 2>&1 &
        echo $! >"$STATE/worker-$n.pid"
    done
    for _ in $(seq 1 300); do
        [ "$(grep -c 'Registering worker' "$STATE/master.log" || true)" -ge 2 ] && { echo "$url"; return; }
        for n in master worker-1 worker-2; do
            kill -0 "$(cat "$STATE/$n.pid")" 2>/dev/null || { echo "cluster.sh: the $n JVM exited" >&2; break 2; }
        done
        sleep 0.2
    done
    echo "cluster.sh: the workers did not register within 60 s; the first errors in $STATE/*.log:" >&2
    grep -h -m 3 -E 'ERROR|Exception|Error:' "$STATE"/*.log >&2 || true
    stop
    exit 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
