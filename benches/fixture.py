#!/usr/bin/env python3
"""The benchmarks' fixture: 24 images shaped like the dev profile (Java
services sharing three base layers, each with its own app layer; ~1.1 GB
unique, ~3.6 GB summed over images) as an OCI layout, a profile naming them
as docker.io/bench/svcNN:1 (pulled through a registry mirror), and k3s
stand-in artifacts pinned in that profile, placed in <work>/data's cache.
Layers are uncompressed tars of random bytes: compression plays no part.

Usage: fixture.py WORK   (writes WORK/layout, WORK/bench.yaml, WORK/blobs.txt,
                          WORK/data/cache/k3s/...)
"""
import hashlib, io, json, os, sys, tarfile

work = sys.argv[1]
root = f"{work}/layout"
os.makedirs(f"{root}/blobs/sha256", exist_ok=True)


def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}


def layer(name, size):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = 0
        t.addfile(info, io.BytesIO(os.urandom(size)))
    d = blob(buf.getvalue())
    d["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
    d["diff"] = d["digest"]
    return d


MiB = 1 << 20
base = [layer("os", 30 * MiB), layer("jre", 60 * MiB), layer("libs", 20 * MiB)]
index = []
unique = []
for i in range(24):
    layers = base + [layer(f"app{i}", 40 * MiB)]
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": [l["diff"] for l in layers]}}).encode()
    c = blob(cfg)
    c["mediaType"] = "application/vnd.oci.image.config.v1+json"
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": c,
         "layers": [{k: l[k] for k in ("mediaType", "digest", "size")} for l in layers]}
    md = blob(json.dumps(m).encode())
    index.append({"mediaType": m["mediaType"], **md, "annotations": {"org.opencontainers.image.ref.name": f"svc{i:02d}"}})
    for d in [c] + layers:
        if d["digest"] not in [u[1] for u in unique]:
            unique.append((f"bench/svc{i:02d}", d["digest"]))
json.dump({"schemaVersion": 2, "manifests": index}, open(f"{root}/index.json", "w"))
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
with open(f"{work}/blobs.txt", "w") as f:
    for repo, digest in unique:
        f.write(f"{repo} {digest}\n")

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
description: benchmark fixture
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
