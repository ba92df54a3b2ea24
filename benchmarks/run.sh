#!/usr/bin/env bash
# Runs every benchmark of issue 6 and prints the tables: JMH core benchmarks (1 and 2 threads, in
# interleaved rounds), retained heap per (user, endpoint) pair, and HTTP load with wrk.
#
#   benchmarks/run.sh                 # everything, about 12 minutes on 2 cores
#   ROUNDS=5 HTTP_ROUNDS=7 benchmarks/run.sh
#
# Needs JDK 17+, Maven and wrk (apt-get install -y wrk). Never installs anything into ~/.m2.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-3}"               # JMH rounds: every benchmark once per round
THREADS="${THREADS:-1,2}"
HEAP_KEYS="${HEAP_KEYS:-1000000}"
HTTP_ROUNDS="${HTTP_ROUNDS:-12}"
HTTP_SECONDS="${HTTP_SECONDS:-3}"
HTTP_CONNECTIONS="${HTTP_CONNECTIONS:-16}"
JAR=benchmarks/target/benchmarks.jar

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  mvn -q -P bench -pl benchmarks -am package -DskipTests
fi
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(java -version 2>&1 | head -1)"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== Core (JMH 1.37, $ROUNDS interleaved rounds, threads $THREADS)"
java -cp "$JAR" dev.controltower.benchmarks.Suite "$ROUNDS" "$THREADS" 2>/dev/null

echo
echo "== Retained heap per (user, endpoint) pair, $HEAP_KEYS pairs, after full GC"
declare -A PER_KEY
for who in controltower controltower-history bucket4j; do
  line=$(java -Xms4g -Xmx4g -cp "$JAR" dev.controltower.benchmarks.RetainedHeap "$who" "$HEAP_KEYS")
  echo "$line"
  PER_KEY[$who]=$(sed -E 's/.*perKey=([0-9.]+).*/\1/' <<<"$line")
done
awk -v a="${PER_KEY[controltower]}" -v h="${PER_KEY[controltower-history]}" -v b="${PER_KEY[bucket4j]}" 'BEGIN {
  printf "controltower / bucket4j: %.3f (target <= 0.5: %s); with history in every window: %.3f\n",
    a / b, (a / b <= 0.5 ? "met" : "MISSED"), h / b }'

echo
echo "== HTTP (embedded Jetty 12.1 ee11, wrk on loopback)"
java -cp "$JAR" dev.controltower.benchmarks.HttpLoad "$HTTP_ROUNDS" "$HTTP_SECONDS" "$HTTP_CONNECTIONS" 2>/dev/null \
  | grep -v ' INFO '
echo
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
