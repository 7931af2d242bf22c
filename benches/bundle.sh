#!/bin/sh
# Bundle and serve benchmark, against physical limits and a peer measured in
# the same run:
#  - bundle create and bundle verify (what install --bundle does before using
#    anything) versus the disk's write and read speed and sha256 speed;
#  - `serve` versus Debian's docker-registry serving the same images, with 1
#    and 8 concurrent `skopeo copy` clients.
#
# Fixture: the pull benchmark's shape (24 images, three shared base layers
# and one app layer each, ~1.1 GiB unique), pushed to a local registry and
# pulled into a data dir with a profile naming them.
#
# Usage: benches/bundle.sh [BINARY]   (default: target/release/digit-quickstart)
set -eu
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/digit-quickstart}")"
[ -x "$bin" ] || { echo "bench: build first: cargo build --release" >&2; exit 1; }
for tool in docker-registry skopeo python3 dd; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is required" >&2; exit 1; }
done
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
reg="127.0.0.1:$port"
cleanup() {
    [ -n "${regpid:-}" ] && kill "$regpid" 2>/dev/null
    [ -n "${servepid:-}" ] && kill "$servepid" 2>/dev/null
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

echo "== fixture: 24 images, a profile naming them, k3s stand-in artifacts"
python3 benches/fixture.py "$work"
i=0
while [ $i -lt 24 ]; do
    n=$(printf 'svc%02d' $i)
    skopeo copy -q --dest-tls-verify=false "oci:$work/layout:$n" "docker://$reg/bench/$n:1"
    i=$((i + 1))
done
rm -rf "$work/layout"
"$bin" --data-dir "$work/data" --profile "$work/bench.yaml" pull --quiet --registry-mirror "http://$reg" >/dev/null
sync

echo "== physical limits: disk write, disk read, sha256 (1 GiB)"
start=$(now); dd if=/dev/urandom of="$work/probe" bs=1M count=1024 conv=fdatasync status=none; urandom_s=$(since "$start")
start=$(now); dd if=/dev/zero of="$work/probe2" bs=1M count=1024 conv=fdatasync status=none; write_s=$(since "$start")
start=$(now); dd if="$work/probe" of=/dev/null bs=1M status=none; read_s=$(since "$start")
# OpenSSL's sha256 (python's hashlib), which uses the CPU's SHA extensions as
# the sha2 crate does; coreutils' sha256sum may not.
sha_s=$(python3 -c "
import hashlib, time
h = hashlib.sha256(); t = time.monotonic()
with open('$work/probe', 'rb') as f:
    for chunk in iter(lambda: f.read(1 << 20), b''):
        h.update(chunk)
print(round(time.monotonic() - t, 2))")
rm -f "$work/probe" "$work/probe2"

echo "== bundle create, bundle verify"
start=$(now)
"$bin" --quiet --data-dir "$work/data" --profile "$work/bench.yaml" bundle create -o "$work/b.tar.zst" >/dev/null
create_s=$(since "$start")
start=$(now)
"$bin" --quiet bundle verify "$work/b.tar.zst" >/dev/null
verify_s=$(since "$start")
content=$(du -sb "$work/data/store/blobs" | cut -f1)
bundle_size=$(stat -c %s "$work/b.tar.zst")

echo "== serve versus docker-registry, skopeo clients"
sport=$(free_port)
"$bin" --quiet --data-dir "$work/data" --profile "$work/bench.yaml" serve --listen "127.0.0.1:$sport" >/dev/null 2>&1 &
servepid=$!
until curl -fs "http://127.0.0.1:$sport/v2/" >/dev/null; do sleep 0.05; done
# $1 = host:port, $2 = clients; every client copies 24/clients images.
copy_all() {
    rm -rf "$work/out"; mkdir -p "$work/out"
    c=0
    pids=""
    while [ "$c" -lt "$2" ]; do
        (
            i=$c
            while [ $i -lt 24 ]; do
                n=$(printf 'svc%02d' $i)
                skopeo copy -q --src-tls-verify=false "docker://$1/bench/$n:1" "oci:$work/out/c$c:$n"
                i=$((i + $2))
            done
        ) &
        pids="$pids $!"
        c=$((c + 1))
    done
    # Only the clients: the registry and serve run in the background too.
    for p in $pids; do wait "$p"; done
}
start=$(now); copy_all "$reg" 1; reg1=$(since "$start")
start=$(now); copy_all "127.0.0.1:$sport" 1; serve1=$(since "$start")
start=$(now); copy_all "$reg" 8; reg8=$(since "$start")
start=$(now); copy_all "127.0.0.1:$sport" 8; serve8=$(since "$start")

python3 - "$content" "$bundle_size" "$urandom_s" "$write_s" "$read_s" "$sha_s" "$create_s" "$verify_s" "$reg1" "$serve1" "$reg8" "$serve8" <<'PY'
import sys
content, size = int(sys.argv[1]), int(sys.argv[2])
_, write_s, read_s, sha_s, create_s, verify_s, reg1, serve1, reg8, serve8 = map(float, sys.argv[3:])
GiB, MiB = 2**30, 2**20
mbps = lambda b, s: b / MiB / s
w, r, h = 1024 / write_s, 1024 / read_s, 1024 / sha_s
create, verify = mbps(content, create_s), mbps(content, verify_s)
print()
print(f"{'store content':38} {content / GiB:.2f} GiB (bundle {size / GiB:.2f} GiB)")
print(f"{'disk write / read / sha256':38} {w:.0f} / {r:.0f} / {h:.0f} MiB/s")
print(f"{'bundle create':38} {create_s} s = {create:.0f} MiB/s = {create / min(w, h):.2f} of min(write, sha256)")
print(f"{'bundle verify (install --bundle check)':38} {verify_s} s = {verify:.0f} MiB/s = {verify / min(r, h):.2f} of min(read, sha256)")
print(f"{'1 skopeo client: serve / registry':38} {serve1} s / {reg1} s = {reg1 / serve1:.2f}x the registry's throughput")
print(f"{'8 skopeo clients: serve / registry':38} {serve8} s / {reg8} s = {reg8 / serve8:.2f}x the registry's throughput")
PY
