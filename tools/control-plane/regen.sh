#!/bin/sh
# Regenerates the three Go tool modules for the test control plane at the
# versions below. The Kubernetes module's replace lines are generated from the
# tag's own go.mod (every `k8s.io/<m> => ./staging/...` becomes
# `k8s.io/<m> => k8s.io/<m> v0.<minor>.<patch>`), never kept by hand: the list
# changes between minors. Run it after changing a version, then commit the
# go.mod and go.sum files; scripts/control-plane builds from them.
set -eu
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/versions.env
. ./versions.env

kube_mod=$(cd kube && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[ -f "$kube_mod" ] || { echo "regen.sh: cannot download k8s.io/kubernetes@$KUBERNETES_VERSION" >&2; exit 1; }
staging_version="v0.${KUBERNETES_VERSION#v1.}"

write_mod() { # dir module-path go-directive
    printf 'module %s\n\ngo %s\n' "$2" "$3" > "$1/go.mod"
    rm -f "$1/go.sum"
}

# Kubernetes: the godebug line follows the main module, so copy upstream's.
go_line=$(sed -n 's/^go //p' "$kube_mod")
write_mod kube digit-quickstart/tools/kube "$go_line"
sed -n '/^godebug /p' "$kube_mod" >> kube/go.mod
(
    cd kube
    go mod edit -require="k8s.io/kubernetes@$KUBERNETES_VERSION"
    sed -n 's|^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*|\1|p' "$kube_mod" | while read -r m; do
        go mod edit -replace="$m=$m@$staging_version"
    done
    for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
        go get -tool "k8s.io/kubernetes/cmd/$cmd@$KUBERNETES_VERSION"
    done
    go mod tidy
)

write_mod kine digit-quickstart/tools/kine 1.25.1
(cd kine && go get -tool "github.com/k3s-io/kine@$KINE_VERSION" && go mod tidy)

write_mod kwok digit-quickstart/tools/kwok 1.26.0
(cd kwok && go get -tool "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" && go mod tidy)
echo "regen.sh: kube $KUBERNETES_VERSION (staging $staging_version), kine $KINE_VERSION, kwok $KWOK_VERSION"
