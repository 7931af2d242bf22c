#!/bin/sh
# Pull benchmark: digit-quickstart pull versus the machine's ceiling (the
# unique blobs fetched in parallel with curl, each hashed with OpenSSL's
# sha256, at the parallelism that is fastest here) and versus skopeo copy,
# same images, same local registry, in one run.
#
# Fixture: benches/fixture.py (24 images shaped like the dev profile, ~1.1 GB
# unique, ~3.6 GB summed over images).
#
# Usage: benches/pull.sh [BINARY]   (default: target/release/digit-quickstart)
# Needs: docker-registry, skopeo, curl, openssl, /usr/bin/time (Debian package `time`), python3.
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
python3 benches/fixture.py "$work"
images=""
i=0
while [ $i -lt 24 ]; do
    n=$(printf 'svc%02d' $i)
    skopeo copy -q --dest-tls-verify=false "oci:$work/layout:$n" "docker://$reg/bench/$n:1"
    images="$images $reg/bench/$n:1"
    i=$((i + 1))
done
rm -rf "$work/layout"
# The blobs as the registry holds them (skopeo compresses uncompressed
# layers on push, so the layout's digests are not the registry's).
python3 - "$reg" > "$work/blobs.txt" <<'PY'
import json, sys, urllib.request
reg = sys.argv[1]
seen = set()
for i in range(24):
    repo = f"bench/svc{i:02d}"
    req = urllib.request.Request(f"http://{reg}/v2/{repo}/manifests/1", headers={"Accept": ",".join([
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"])})
    m = json.load(urllib.request.urlopen(req))
    for d in [m["config"]] + m["layers"]:
        if d["digest"] not in seen:
            seen.add(d["digest"])
            print(repo, d["digest"])
PY
sync

now() { python3 -c 'import time; print(time.monotonic())'; }
rss_of() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

# One blob: fetch to a file, then sha256 it (what any correct client must do).
cat > "$work/fetch.sh" <<SH
#!/bin/sh
set -e
f="$work/raw/\$(echo "\$2" | cut -c8-)"
curl -fsS -o "\$f" "http://$reg/v2/\$1/blobs/\$2"
openssl dgst -sha256 "\$f" >/dev/null
SH
chmod +x "$work/fetch.sh"
echo "== the ceiling: curl + openssl sha256 per unique blob, in parallel"
best_raw=""
best_p=""
for p in 1 2 4 8; do
    rm -rf "$work/raw"; mkdir -p "$work/raw"
    start=$(now)
    xargs -P "$p" -L 1 "$work/fetch.sh" < "$work/blobs.txt"
    t=$(python3 -c "print(round($(now) - $start, 2))")
    echo "   parallelism $p: $t s"
    if [ -z "$best_raw" ] || python3 -c "import sys; sys.exit(0 if $t < $best_raw else 1)"; then
        best_raw=$t
        best_p=$p
    fi
done
rm -rf "$work/raw"

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

python3 - "$work/dq.json" "$work/dq-warm.json" "$skopeo_s" "$dq_s" "$warm_s" "$dq_rss" "$max_skopeo" "$skopeo_bytes" "$best_raw" "$best_p" <<'PY'
import json, sys
cold, warm, skopeo_s, dq_s, warm_s, dq_rss, sk_rss, sk_bytes, raw_s, raw_p = sys.argv[1:]
summary = lambda p: [json.loads(l) for l in open(p) if '"summary"' in l][-1]["summary"]
c, w = summary(cold), summary(warm)
ratio = float(dq_s) / float(skopeo_s)
fetched = c["fetched_bytes"] / c["unique_bytes"]
rows = [
    ("images", "24", ""),
    ("unique bytes", f'{c["unique_bytes"] / 2**30:.2f} GiB', ""),
    ("skopeo copy, sequential", f"{skopeo_s} s ({int(sk_bytes) / 2**30:.2f} GiB stored, peak RSS {int(sk_rss) // 1024} MB)", ""),
    ("ceiling: curl + openssl, parallel", f"{raw_s} s (parallelism {raw_p})", ""),
    ("digit-quickstart pull, cold", f"{dq_s} s", ""),
    ("wall ratio pull / ceiling", f"{float(dq_s) / float(raw_s):.2f}", "target <= 1.15: " + ("met" if float(dq_s) / float(raw_s) <= 1.15 else "MISSED")),
    ("wall ratio pull / skopeo", f"{ratio:.2f}", "target <= 0.50: " + ("met" if ratio <= 0.5 else "MISSED")),
    ("bytes fetched / unique", f"{fetched:.2f}", "target 1.00: " + ("met" if abs(fetched - 1) < 1e-9 else "MISSED")),
    ("peak RSS", f"{int(dq_rss) // 1024} MB", "target <= 64 MB: " + ("met" if int(dq_rss) <= 64 * 1024 else "MISSED")),
    ("warm re-pull", f"{warm_s} s, {w['fetched_blobs']} blobs fetched", "target <= 1 s: " + ("met" if float(warm_s) <= 1 else "MISSED")),
]
print()
for name, value, target in rows:
    print(f"{name:30} {value:50} {target}")
PY
