#!/usr/bin/env bash
# Spark local mode against in-process on the same cores: 20 Lanczos steps of the Hessian of 784-512-512-10 (f32) on all
# 60,000 Fashion-MNIST training images (4 batches of 15,000 rows: about 3 GB of working memory instead of 13 GB for one
# batch with the 16-vector blocks eigs allocates), alternating in-process and --spark local[2] runs (ABAB), each a fresh JVM with
# 2 engine threads. Prints each run's eigs time (from the first product: for Spark it includes the executor opening the
# data and building its engine; not the JVM or Spark context start) and its wall time, with the load average.
# Usage: spark/bench-overhead.sh [ROUNDS [JARS]]   (needs /usr/share/datasets/fashion-mnist: apt-get install
# dataset-fashion-mnist). JARS: a folder with hvp4j.jar, hvp4j-spark.jar and jars/ copied from a build, to run while
# the tree is rebuilt; default: through ./hvp4j.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F=/usr/share/datasets/fashion-mnist
[ -f "$F/train-images-idx3-ubyte.gz" ] || { echo "bench-overhead: $F not found (apt-get install dataset-fashion-mnist)" >&2; exit 2; }
ARGS=(eigs --arch 784,512,512,10 --dtype f32 --inputs "$F/train-images-idx3-ubyte.gz"
    --targets "$F/train-labels-idx1-ubyte.gz" --top 5 --max-iter 20 --threads 2 --batch-size 15000 --json)
cd "$ROOT"
for round in $(seq 1 "${1:-2}"); do
    for mode in in-process spark; do
        extra=()
        [ "$mode" = spark ] && extra=(--spark 'local[2]')
        load="$(cut -d' ' -f1 /proc/loadavg)"
        t0=$(date +%s.%N)
        if [ -n "${2:-}" ]; then
            J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
            V=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
            if [ "$mode" = spark ]; then
                out="$(SPARK_LOCAL_IP=127.0.0.1 "$J" "${V[@]}" --add-opens=java.base/java.lang=ALL-UNNAMED \
                    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
                    --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
                    --sun-misc-unsafe-memory-access=allow -cp "$2/hvp4j-spark.jar:$2/jars/*" io.hvp4j.cli.Main \
                    "${ARGS[@]}" "${extra[@]}" 2>/dev/null)"
            else
                out="$("$J" "${V[@]}" -jar "$2/hvp4j.jar" "${ARGS[@]}" 2>/dev/null)"
            fi
        else
            out="$(./hvp4j "${ARGS[@]}" "${extra[@]}")"
        fi
        t1=$(date +%s.%N)
        secs="$(grep -o '"seconds": [0-9.]*' <<<"$out" | grep -o '[0-9.]*$')"
        products="$(grep -o '"products": [0-9]*' <<<"$out" | grep -o '[0-9]*$')"
        top="$(grep -o '"value": [-0-9.eE]*' <<<"$out" | head -n 1 | grep -o '[-0-9.eE]*$')"
        printf '%s round %d: %s products in %s s (wall %.1f s), lambda_max %s, load before %s\n' \
            "$mode" "$round" "$products" "$secs" "$(echo "$t1 - $t0" | bc)" "$top" "$load"
    done
done
