#!/bin/sh
# Push benchmark: `digit-quickstart images push` versus skopeo copying the
# same images from the same local store (an OCI layout) into an empty
# registry of the same kind, in one run; then a re-push.
#
# Fixture: benches/fixture.py (24 images shaped like the dev profile, ~1.1 GB
# unique), pulled into the store from a first local registry.
#
# Usage: benches/push.sh [BINARY]   (default: target/release/digit-quickstart)
# Needs: docker-registry, skopeo, curl, python3, /usr/bin/time (package `time`).
set -eu
cd "$(dirname "$0")/.."
bin="${1:-target/release/digit-quickstart}"
[ -x "$bin" ] || { echo "bench: build first: cargo build --release" >&2; exit 1; }
for tool in docker-registry skopeo python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is required" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT INT TERM

# A registry on a free port: prints host:port.
registry() {
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$work/$1"
    printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
        "$work/$1/data" "$port" > "$work/$1/config.yml"
    docker-registry serve "$work/$1/config.yml" >/dev/null 2>&1 &
    pids="$pids $!"
    until curl -fs "http://127.0.0.1:$port/v2/" >/dev/null; do sleep 0.05; done
    echo "127.0.0.1:$port"
}
src=$(registry src)
ours=$(registry ours)
peer=$(registry peer)

echo "== building the fixture (24 images) and pulling it into the store"
python3 benches/fixture.py "$work"
i=0
while [ $i -lt 24 ]; do
    n=$(printf 'svc%02d' $i)
    skopeo copy -q --dest-tls-verify=false "oci:$work/layout:$n" "docker://$src/bench/$n:1"
    i=$((i + 1))
done
rm -rf "$work/layout"
# A profile of the 24 images (the dev profile's header, tiny components).
python3 - "$src" profiles/dev.yaml > "$work/profile.yaml" <<'PY'
import sys
src, dev = sys.argv[1], open(sys.argv[2]).read()
print(dev[: dev.index("\nadmin:")])
print("admin: {username: A, via: c0, tenants: [pg], roles: []}\ncomponents:")
for i in range(24):
    print(f"  - name: c{i}\n    images:\n      - {{ref: {src}/bench/svc{i:02d}:1, compressed: 1Mi, unpacked: 2Mi}}\n"
          "    resources:\n      requests: {cpu: 10m, memory: 16Mi}\n      limits: {memory: 32Mi}")
PY
dq() { "$bin" --data-dir "$work/dq" --profile "$work/profile.yaml" "$@"; }
dq pull --quiet --insecure-registry "$src" >/dev/null
sync

now() { python3 -c 'import time; print(time.monotonic())'; }

echo "== skopeo copy from the store (OCI layout), one image after another"
start=$(now)
i=0
while [ $i -lt 24 ]; do
    n=$(printf 'svc%02d' $i)
    skopeo copy -q --preserve-digests --dest-tls-verify=false \
        "oci:$work/dq/store:$src/bench/$n:1" "docker://$peer/bench/$n:1"
    i=$((i + 1))
done
skopeo_s=$(python3 -c "print(round($(now) - $start, 2))")

echo "== digit-quickstart images push (cold)"
start=$(now)
/usr/bin/time -v -o "$work/time.dq" "$bin" --data-dir "$work/dq" --profile "$work/profile.yaml" \
    images push --plain-http --output json --to "$ours" > "$work/cold.json"
cold_s=$(python3 -c "print(round($(now) - $start, 2))")
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.dq")

echo "== digit-quickstart images push (again)"
start=$(now)
dq images push --plain-http --output json --to "$ours" > "$work/warm.json"
warm_s=$(python3 -c "print(round($(now) - $start, 2))")

python3 - "$work/cold.json" "$work/warm.json" "$skopeo_s" "$cold_s" "$warm_s" "$rss" <<'PY'
import json, sys
cold, warm, sk, c_s, w_s, rss = sys.argv[1:]
c, w = json.load(open(cold)), json.load(open(warm))
rows = [
    ("images", "24"),
    ("bytes uploaded, cold", f'{c["bytes_uploaded"] / 2**30:.2f} GiB in {c["blobs_uploaded"]} blobs, {c["blobs_mounted"]} mounted'),
    ("skopeo copy, sequential", f"{sk} s"),
    ("images push, cold", f"{c_s} s (peak RSS {int(rss) // 1024} MB)"),
    ("wall ratio push / skopeo", f"{float(c_s) / float(sk):.2f}"),
    ("images push, again", f'{w_s} s, {w["bytes_uploaded"]} bytes uploaded, {w["manifests_present"]} manifests already there'),
]
print()
for name, value in rows:
    print(f"{name:30} {value}")
PY
