#!/bin/sh
# Import benchmark: handing the pulled images to containerd, three ways, same
# images (benches/fixture.py), Debian's containerd, in one run:
#   prebuilt  `ctr images import` of OCI archives made beforehand (untimed):
#             containerd's own speed, the floor for any archive-based import;
#   before    what install did until now: write one archive per image from
#             the store, then import each;
#   now       `digit-quickstart pull --import`: one OCI layout streamed from
#             the store into `ctr images import -`, shared blobs once, no file.
# Each gets a fresh containerd root. Also reports the disk each leaves.
#
# Usage: benches/import.sh [BINARY]   (default: target/release/digit-quickstart)
# Needs: docker-registry, skopeo, containerd, ctr, python3.
set -eu
cd "$(dirname "$0")/.."
bin="${1:-target/release/digit-quickstart}"
[ -x "$bin" ] || { echo "bench: build first: cargo build --release" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
for tool in docker-registry skopeo containerd ctr python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is required" >&2; exit 1; }
done
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
reg="127.0.0.1:$port"
cd_pid=""
cleanup() {
    [ -n "${regpid:-}" ] && kill "$regpid" 2>/dev/null
    [ -n "$cd_pid" ] && kill "$cd_pid" 2>/dev/null
    sleep 0.5
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
now() { python3 -c 'import time; print(time.monotonic())'; }
since() { python3 -c "print(round($(now) - $1, 2))"; }

cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: $reg}
YAML
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
regpid=$!
until curl -fs "http://$reg/v2/" >/dev/null; do sleep 0.05; done

echo "== fixture: 24 images, pulled into a data dir"
python3 benches/fixture.py "$work"
i=0
while [ $i -lt 24 ]; do
    n=$(printf 'svc%02d' $i)
    skopeo copy -q --dest-tls-verify=false "oci:$work/layout:$n" "docker://$reg/bench/$n:1"
    i=$((i + 1))
done
rm -rf "$work/layout"
dq() { "$bin" --data-dir "$work/data" --profile "$work/bench.yaml" "$@"; }
dq pull --quiet --registry-mirror "http://$reg" --export "$work/prebuilt" >/dev/null
store=$(du -sb "$work/data/store" | cut -f1)
sync

# A fresh containerd on its own socket and root; sets $ctr.
containerd_fresh() {
    [ -n "$cd_pid" ] && { kill "$cd_pid"; wait "$cd_pid" 2>/dev/null || true; }
    rm -rf "$work/cd"
    mkdir -p "$work/cd"
    cat > "$work/cd/config.toml" <<TOML
version = 2
root = "$work/cd/root"
state = "$work/cd/state"
[grpc]
  address = "$work/cd/containerd.sock"
TOML
    containerd --config "$work/cd/config.toml" >/dev/null 2>&1 &
    cd_pid=$!
    until [ -S "$work/cd/containerd.sock" ]; do sleep 0.05; done
    ctr="ctr --address $work/cd/containerd.sock -n k8s.io"
}
content() { du -sb "$work/cd/root/io.containerd.content.v1.content" | cut -f1; }
# Unpacked layers (whichever snapshotter containerd chose here).
snapshots() { du -sb "$work"/cd/root/io.containerd.snapshotter.v1.* 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

echo "== prebuilt archives into containerd (archives made beforehand)"
containerd_fresh
start=$(now)
for a in "$work"/prebuilt/*.tar; do $ctr images import "$a" >/dev/null; done
prebuilt_s=$(since "$start")
prebuilt_content=$(content)

echo "== before: write an archive per image, then import it"
containerd_fresh
rm -rf "$work/archives"
start=$(now)
dq pull --quiet --registry-mirror "http://$reg" --export "$work/archives" >/dev/null
for a in "$work"/archives/*.tar; do $ctr images import "$a" >/dev/null; done
before_s=$(since "$start")
archives=$(du -sb "$work/archives" | cut -f1)
rm -rf "$work/archives"

echo "== the warm pull alone (both the above and below include it)"
start=$(now)
dq pull --quiet --registry-mirror "http://$reg" >/dev/null
warm_s=$(since "$start")

echo "== now: one stream from the store into ctr images import -"
containerd_fresh
start=$(now)
DIGIT_QUICKSTART_CTR="$ctr" dq pull --quiet --registry-mirror "http://$reg" --import
now_s=$(since "$start")
now_content=$(content)
now_snap=$(snapshots)

python3 - "$prebuilt_s" "$before_s" "$now_s" "$warm_s" "$store" "$archives" "$prebuilt_content" "$now_content" "$now_snap" <<'PY'
import sys
pre, before, now, warm, store, archives, pre_c, now_c, snap = map(float, sys.argv[1:])
g = lambda b: f"{b / 2**30:.2f} GiB"
rows = [
    ("prebuilt archives -> containerd", f"{pre:.2f} s", "containerd's floor"),
    ("before: export + import", f"{before - warm:.2f} s (+{warm:.2f} s warm pull)", f"{(before - warm) / pre:.2f}x the floor; {g(archives)} of archives written first"),
    ("now: streamed import", f"{now - warm:.2f} s (+{warm:.2f} s warm pull)", f"{(now - warm) / pre:.2f}x the floor; no temporary file"),
    ("store / containerd content", f"{g(store)} / {g(now_c)}", f"prebuilt gave {g(pre_c)}"),
    ("unpacked snapshots", g(snap), ""),
    ("peak disk, images", f"{g(store + now_c + snap)}", f"before: {g(store + archives + now_c + snap)} (archives on top); after --drop-store: {g(now_c + snap)}"),
]
print()
for a, b, c in rows:
    print(f"{a:34} {b:36} {c}")
PY
