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
python3 - "$work" "$reg" <<'PY'
import hashlib, io, json, os, sys, tarfile
work, reg = sys.argv[1], sys.argv[2]
root = f"{work}/layout"
os.makedirs(f"{root}/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
def layer(name, size):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo(name); info.size = size; info.mtime = 0
        t.addfile(info, io.BytesIO(os.urandom(size)))
    d = blob(buf.getvalue()); d["mediaType"] = "application/vnd.oci.image.layer.v1.tar"; d["diff"] = d["digest"]
    return d
MiB = 1 << 20
base = [layer("os", 30 * MiB), layer("jre", 60 * MiB), layer("libs", 20 * MiB)]
index = []
for i in range(24):
    layers = base + [layer(f"app{i}", 40 * MiB)]
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["diff"] for l in layers]}}).encode()
    c = blob(cfg); c["mediaType"] = "application/vnd.oci.image.config.v1+json"
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": c,
         "layers": [{k: l[k] for k in ("mediaType", "digest", "size")} for l in layers]}
    md = blob(json.dumps(m).encode())
    index.append({"mediaType": m["mediaType"], **md, "annotations": {"org.opencontainers.image.ref.name": f"svc{i:02d}"}})
json.dump({"schemaVersion": 2, "manifests": index}, open(f"{root}/index.json", "w"))
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
# k3s stand-ins in the data dir's cache, pinned by their sums.
art = {}
os.makedirs(f"{work}/data/cache/k3s/v1.36.4+k3s1", exist_ok=True)
for name, size in (("k3s", 70 * MiB), ("k3s-airgap-images-amd64.tar.zst", 60 * MiB)):
    data = os.urandom(size)
    open(f"{work}/data/cache/k3s/v1.36.4+k3s1/{name}", "wb").write(data)
    art[name] = hashlib.sha256(data).hexdigest()
comps = "".join(
    f"  - name: svc{i:02d}\n    images: [{{ref: docker.io/bench/svc{i:02d}:1, compressed: 150Mi, unpacked: 150Mi}}]\n"
    f"    resources: {{requests: {{cpu: 10m, memory: 16Mi}}, limits: {{memory: 32Mi}}}}\n" for i in range(24))
open(f"{work}/bench.yaml", "w").write(f"""schema: 1
name: bench
description: bundle benchmark
digit: {{release: bench}}
k3s:
  version: v1.36.4+k3s1
  url_template: http://127.0.0.1:9/{{version}}/{{artifact}}
  overhead: {{cpu: 500m, memory: 1Gi}}
  artifacts:
    amd64:
      binary: {{name: k3s, sha256: {art['k3s']}, size: 70Mi}}
      airgap_images: {{name: k3s-airgap-images-amd64.tar.zst, sha256: {art['k3s-airgap-images-amd64.tar.zst']}, size: 60Mi}}
host:
  arch: [amd64]
  cpus: {{min: 1, recommended: 1}}
  memory: {{min: 1Gi, recommended: 1Gi}}
  ports: []
  eviction: {{memory_available: 100Mi, disk_free_percent: 10}}
  data_dir_reserve: 1Mi
  os: []
namespace: bench
state_tenant: pg
city_tenants: []
admin: {{username: A, via: svc00, tenants: [pg], roles: []}}
components:
{comps}""")
PY
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
