#!/usr/bin/env bash
# The Redis benchmark of issue 11: the kit's RedisWindowStore against Bucket4j's Lettuce proxy manager
# on one redis-server that this script starts on a free loopback port and stops by its pid (also when
# the run fails). Hot key at 1, 2 and 16 threads, 100,000 random keys at 16 threads; p50 and p99 per
# check; round trips per allowed check from INFO commandstats.
#
#   benchmarks/run-redis.sh                   # about 3 minutes on 2 cores
#   SECONDS_PER_RUN=5 ROUNDS=3 benchmarks/run-redis.sh
#
# Needs JDK 17+, Maven and redis-server (apt-get install -y redis-server). Never installs into ~/.m2.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN="${SECONDS_PER_RUN:-4}"
ROUNDS="${ROUNDS:-3}"
JAR=benchmarks/target/benchmarks.jar

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  mvn -q -P bench -pl benchmarks -am package -DskipTests
fi
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install -y redis-server" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" --daemonize no \
  --loglevel warning >"$DIR/redis.log" 2>&1 &
REDIS_PID=$!
stop_redis() { kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; rm -rf "$DIR"; }
trap stop_redis EXIT
for _ in $(seq 100); do
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.05
done

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(java -version 2>&1 | head -1), $(redis-server --version | cut -d' ' -f1-3)"
echo "== redis-server pid $REDIS_PID on 127.0.0.1:$PORT; $ROUNDS rounds of ${SECONDS_PER_RUN}s per scenario"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
java -Xms1g -Xmx1g -cp "$JAR" dev.controltower.benchmarks.RedisBench "redis://127.0.0.1:$PORT" \
  "$SECONDS_PER_RUN" "$ROUNDS" 2>/dev/null | grep -v ' INFO '
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
