#!/usr/bin/env bash
# Build the aws-auth oracle from Debian's Go packages, in GOPATH mode: no module download,
# no network. Installs golang-go, golang-gopkg-yaml.v2-dev and golang-k8s-sigs-yaml-dev when
# they are missing (needs root, as in CI). Prints the path of the binary on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."

pkgs=(golang-go golang-gopkg-yaml.v2-dev golang-k8s-sigs-yaml-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "awsauth-oracle: missing Debian packages: ${missing[*]} (run as root: apt-get update && apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "==> installing ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

out=target/awsauth-oracle
mkdir -p "$out/gocache"
# The binary carries the SHA-256 of its main.go (`awsauth-oracle -version`); the tests refuse a
# binary whose hash is not that of the main.go in the tree, so a stale oracle cannot be used.
hash=$(sha256sum tools/awsauth-oracle/main.go | cut -d' ' -f1)
# GOFLAGS is cleared: an inherited -mod=... or -modfile=... would break GOPATH mode.
GOFLAGS= GO111MODULE=off GOPROXY=off GOPATH=/usr/share/gocode GOCACHE="$PWD/$out/gocache" \
  go build -ldflags "-X main.sourceHash=$hash" -o "$out/awsauth-oracle" ./tools/awsauth-oracle
echo "$PWD/$out/awsauth-oracle"
