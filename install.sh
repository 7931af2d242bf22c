#!/bin/sh
# Install the digit-quickstart binary.
#
#   From a checkout:  ./install.sh [--prefix DIR] [-- digit-quickstart args...]
#     builds the static binary (crt-static, rustls, bundled CA roots) and installs it.
#   On a fresh VM:    curl -fsSL <release-url>/install.sh | DIGIT_QUICKSTART_RELEASE_URL=<release-url> sh
#     downloads the release binary for this architecture, verifies its sha256
#     against the release's SHA256SUMS, refuses on mismatch, then installs.
#
# Arguments after `--` are passed to the installed binary, e.g.
#   ./install.sh -- install --yes
#
# Environment: DIGIT_QUICKSTART_RELEASE_URL (release download base),
#              DIGIT_QUICKSTART_PREFIX (install dir, default /usr/local/bin).
set -eu

prefix="${DIGIT_QUICKSTART_PREFIX:-/usr/local/bin}"
release_url="${DIGIT_QUICKSTART_RELEASE_URL:-}"
mode=auto

say() { printf '%s\n' "install.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix="$2"; shift 2 ;;
        --from-source) mode=source; shift ;;
        --from-release) mode=release; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,16p' "$0" 2>/dev/null || true; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done

case "$(uname -m)" in
    x86_64|amd64) triple=x86_64-unknown-linux-gnu; asset=digit-quickstart-x86_64-linux ;;
    aarch64|arm64) triple=aarch64-unknown-linux-gnu; asset=digit-quickstart-aarch64-linux ;;
    *) die "unsupported architecture $(uname -m): digit-quickstart runs on x86_64 (and aarch64)" ;;
esac

# A checkout is a directory next to this script holding our Cargo.toml.
here=$(cd "$(dirname "$0")" 2>/dev/null && pwd || echo /nonexistent)
if [ "$mode" = auto ]; then
    if [ -f "$here/Cargo.toml" ] && grep -q '^name = "digit-quickstart"' "$here/Cargo.toml"; then
        mode=source
    else
        mode=release
    fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

fetch() { # url dest
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 3 -o "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1"
    else
        die "need curl or wget to download $1"
    fi
}

if [ "$mode" = source ]; then
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (rustup) or use a release binary"
    say "building a static binary for $triple (a few minutes on 2 cores)"
    (cd "$here" && RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
        cargo build --release --locked --target "$triple") || die "build failed"
    cp "$here/target/$triple/release/digit-quickstart" "$tmp/digit-quickstart"
else
    [ -n "$release_url" ] || die "not in a checkout and DIGIT_QUICKSTART_RELEASE_URL is not set: set it to the release download URL"
    say "downloading $asset from $release_url"
    fetch "$release_url/SHA256SUMS" "$tmp/SHA256SUMS" || die "could not download $release_url/SHA256SUMS"
    expected=$(awk -v a="$asset" '$2 == a || $2 == "*"a { print $1 }' "$tmp/SHA256SUMS")
    [ -n "$expected" ] || die "SHA256SUMS from $release_url has no entry for $asset"
    fetch "$release_url/$asset" "$tmp/digit-quickstart" || die "could not download $release_url/$asset"
    actual=$(sha256_of "$tmp/digit-quickstart")
    if [ "$actual" != "$expected" ]; then
        die "checksum mismatch for $asset: expected $expected, got $actual; nothing was installed"
    fi
    say "sha256 verified: $actual"
fi

chmod 0755 "$tmp/digit-quickstart"
"$tmp/digit-quickstart" --version >/dev/null || die "the new binary does not run on this host"

run_as_root=""
if [ ! -w "$prefix" ] && [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "$prefix is not writable: run as root"
    run_as_root=sudo
fi
$run_as_root mkdir -p "$prefix"
# Copy next to the target, then rename: a running old binary is never half-written.
$run_as_root cp "$tmp/digit-quickstart" "$prefix/.digit-quickstart.new"
$run_as_root mv -f "$prefix/.digit-quickstart.new" "$prefix/digit-quickstart"
say "installed $("$prefix/digit-quickstart" --version | head -n 1) to $prefix/digit-quickstart"

if [ $# -gt 0 ]; then
    exec "$prefix/digit-quickstart" "$@"
fi
