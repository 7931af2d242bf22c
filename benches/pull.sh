#!/bin/sh
# Pull benchmark: digit-quickstart pull versus skopeo copy, same images, same
# local registry, same kind of store (an OCI image layout), in one run.
#
# Fixture: 24 images shaped like the dev profile (Java services sharing three
# base layers, each with its own app layer): ~1.1 GB unique, ~3.6 GB as the
# sum of every image's layers. Layers are uncompressed tars of random bytes,
# so compression speed plays no part.
#
# Usage: benches/pull.sh [BINARY]   (default: target/release/digit-quickstart)
# Needs: docker-registry, skopeo, /usr/bin/time (Debian package `time`), python3.
set -eu
cd "$(dirname "$0")/.."
bin="${1:-target/release/digit-quickstart}"
[ -x "$bin" ] || { echo "bench: build first: cargo build --release" >&2; exit 1; }
for tool in docker-registry skopeo python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is required" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
reg="127.0.0.1:$port"
cleanup() { [ -n "${regpid:-}" ] && kill "$regpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM

cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: $reg}
YAML
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
regpid=$!
until curl -fs "http://$reg/v2/" >/dev/null; do sleep 0.05; done

echo "== building the fixture (24 images) in an OCI layout"
python3 - "$work/layout" <<'PY'
import hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
os.makedirs(f"{root}/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
def layer(name, size):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo(name); info.size = size; info.mtime = 0
        t.addfile(info, io.BytesIO(os.urandom(size)))
    raw = buf.getvalue()
    d = blob(raw)
    d["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
    d["diff"] = d["digest"]
    return d
MiB = 1 << 20
base = [layer("os", 30 * MiB), layer("jre", 60 * MiB), layer("libs", 20 * MiB)]
index = []
for i in range(24):
    app = layer(f"app{i}", 40 * MiB)
    layers = base + [app]
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["diff"] for l in layers]}}).encode()
    c = blob(cfg); c["mediaType"] = "application/vnd.oci.image.config.v1+json"
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": c,
         "layers": [{k: l[k] for k in ("mediaType", "digest", "size")} for l in layers]}
    mb = json.dumps(m).encode()
    md = blob(mb)
    index.append({"mediaType": m["mediaType"], **md, "annotations": {"org.opencontainers.image.ref.name": f"svc{i:02d}"}})
json.dump({"schemaVersion": 2, "manifests": index}, open(f"{root}/index.json", "w"))
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
images=""
i=0
while [ $i -lt 24 ]; do
    n=$(printf 'svc%02d' $i)
    skopeo copy -q --dest-tls-verify=false "oci:$work/layout:$n" "docker://$reg/bench/$n:1"
    images="$images $reg/bench/$n:1"
    i=$((i + 1))
done
rm -rf "$work/layout"
sync

now() { python3 -c 'import time; print(time.monotonic())'; }
rss_of() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

echo "== skopeo copy, one image after another, into one OCI layout"
start=$(now)
max_skopeo=0
for img in $images; do
    name=${img##*/}
    /usr/bin/time -v -o "$work/time.skopeo" skopeo copy -q --src-tls-verify=false "docker://$img" "oci:$work/skopeo:$name" 2>/dev/null
    r=$(rss_of "$work/time.skopeo")
    [ "$r" -gt "$max_skopeo" ] && max_skopeo=$r
done
skopeo_s=$(python3 -c "print(round($(now) - $start, 2))")
skopeo_bytes=$(du -sb "$work/skopeo/blobs" | cut -f1)

echo "== digit-quickstart pull (cold)"
start=$(now)
# shellcheck disable=SC2086 # one argument per image
/usr/bin/time -v -o "$work/time.dq" "$bin" pull --quiet --output json --data-dir "$work/dq" --insecure-registry "$reg" $images > "$work/dq.json"
dq_s=$(python3 -c "print(round($(now) - $start, 2))")
dq_rss=$(rss_of "$work/time.dq")

echo "== digit-quickstart pull (warm)"
start=$(now)
# shellcheck disable=SC2086
"$bin" pull --quiet --output json --data-dir "$work/dq" --insecure-registry "$reg" $images > "$work/dq-warm.json"
warm_s=$(python3 -c "print(round($(now) - $start, 2))")

python3 - "$work/dq.json" "$work/dq-warm.json" "$skopeo_s" "$dq_s" "$warm_s" "$dq_rss" "$max_skopeo" "$skopeo_bytes" <<'PY'
import json, sys
cold, warm, skopeo_s, dq_s, warm_s, dq_rss, sk_rss, sk_bytes = sys.argv[1:]
summary = lambda p: [json.loads(l) for l in open(p) if '"summary"' in l][-1]["summary"]
c, w = summary(cold), summary(warm)
ratio = float(dq_s) / float(skopeo_s)
fetched = c["fetched_bytes"] / c["unique_bytes"]
rows = [
    ("images", "24", ""),
    ("unique bytes", f'{c["unique_bytes"] / 2**30:.2f} GiB', ""),
    ("skopeo copy, sequential", f"{skopeo_s} s ({int(sk_bytes) / 2**30:.2f} GiB stored, peak RSS {int(sk_rss) // 1024} MB)", ""),
    ("digit-quickstart pull, cold", f"{dq_s} s", ""),
    ("wall ratio pull / skopeo", f"{ratio:.2f}", "target <= 0.50: " + ("met" if ratio <= 0.5 else "MISSED")),
    ("bytes fetched / unique", f"{fetched:.2f}", "target 1.00: " + ("met" if abs(fetched - 1) < 1e-9 else "MISSED")),
    ("peak RSS", f"{int(dq_rss) // 1024} MB", "target <= 64 MB: " + ("met" if int(dq_rss) <= 64 * 1024 else "MISSED")),
    ("warm re-pull", f"{warm_s} s, {w['fetched_blobs']} blobs fetched", "target <= 1 s: " + ("met" if float(warm_s) <= 1 else "MISSED")),
]
print()
for name, value, target in rows:
    print(f"{name:30} {value:50} {target}")
PY
