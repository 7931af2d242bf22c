#!/bin/sh
# Installs the digit-quickstart binary.
set -eu

usage() {
    cat <<'EOF'
install.sh: install the digit-quickstart binary

On a fresh VM, from a release (downloads, verifies, installs):
  curl -fsSL <release-url>/install.sh | sh
  curl -fsSL <release-url>/install.sh | sh -s -- install --yes    # then run it
From a checkout (builds a static binary with cargo):
  ./install.sh [--prefix DIR] [-- digit-quickstart args...]

Options:
  --prefix DIR      install directory (default /usr/local/bin)
  --from-release    download a release even inside a checkout
  --from-source     build from this checkout
  -h, --help        this text
Anything after the options (or after `--`) is passed to the installed binary.

A release download is verified twice: its sha256 against the release's
SHA256SUMS (always), and SHA256SUMS's minisign signature against the key
this script carries (when `minisign` is installed). Either mismatch stops
it with nothing installed.

Environment: DIGIT_QUICKSTART_RELEASE_URL (release download base),
DIGIT_QUICKSTART_RELEASE_PUBKEY (minisign public key),
DIGIT_QUICKSTART_PREFIX (install directory).
EOF
}

# A release's copy of this script has these filled in (scripts/release).
release_url="${DIGIT_QUICKSTART_RELEASE_URL:-}"
release_pubkey="${DIGIT_QUICKSTART_RELEASE_PUBKEY:-}"
prefix="${DIGIT_QUICKSTART_PREFIX:-/usr/local/bin}"
mode=auto

say() { printf '%s\n' "install.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix="$2"; shift 2 ;;
        --from-source) mode=source; shift ;;
        --from-release) mode=release; shift ;;
        --) shift; break ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) break ;;
    esac
done

case "$(uname -m)" in
    x86_64|amd64) triple=x86_64-unknown-linux-gnu; asset=digit-quickstart-x86_64-linux ;;
    aarch64|arm64)
        die "this is an arm64 machine: DIGIT's service images (egovio/*:v2.9.2-4a60f20) are published for linux/amd64 only, so the profile cannot run here. Use an x86_64 (amd64) VM." ;;
    *) die "unsupported architecture $(uname -m): digit-quickstart and DIGIT's images need x86_64 (amd64)" ;;
esac

# Piped (`curl … | sh`), $0 is the shell, not this file: a release install.
here=/nonexistent
case "$0" in
    *install.sh) here=$(cd "$(dirname "$0")" 2>/dev/null && pwd || echo /nonexistent) ;;
esac
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
    command -v cargo >/dev/null 2>&1 || die "this is a checkout, but cargo is not installed. Either install Rust (https://rustup.rs, then run ./install.sh again), or install a release instead: DIGIT_QUICKSTART_RELEASE_URL=<release-url> ./install.sh --from-release"
    say "building a static binary for $triple (a few minutes on 2 cores)"
    (cd "$here" && RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
        cargo build --release --locked --target "$triple") || die "build failed"
    cp "$here/target/$triple/release/digit-quickstart" "$tmp/digit-quickstart"
else
    [ -n "$release_url" ] || die "no release URL: use the install.sh published with a release (curl -fsSL <release-url>/install.sh | sh), or set DIGIT_QUICKSTART_RELEASE_URL"
    say "downloading $asset from $release_url"
    fetch "$release_url/SHA256SUMS" "$tmp/SHA256SUMS" || die "could not download $release_url/SHA256SUMS"
    if command -v minisign >/dev/null 2>&1 && [ -n "$release_pubkey" ]; then
        fetch "$release_url/SHA256SUMS.minisig" "$tmp/SHA256SUMS.minisig" ||
            die "could not download $release_url/SHA256SUMS.minisig; nothing was installed"
        minisign -V -P "$release_pubkey" -m "$tmp/SHA256SUMS" >/dev/null 2>&1 ||
            die "the signature of SHA256SUMS does not verify with key $release_pubkey; nothing was installed"
        say "signature of SHA256SUMS verified (minisign, key $release_pubkey)"
    elif [ -n "$release_pubkey" ]; then
        say "minisign is not installed: the signature was not checked (the sha256 still is); apt-get install minisign to check it too"
    fi
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
    # Piped, stdin is this script: give the binary the terminal for prompts.
    if [ ! -t 0 ] && [ -r /dev/tty ] && (: < /dev/tty) 2>/dev/null; then
        exec "$prefix/digit-quickstart" "$@" < /dev/tty
    fi
    exec "$prefix/digit-quickstart" "$@"
fi
