#!/usr/bin/env bash
# One command for a release build of the host target, its man pages, and its size:
#
#   scripts/release.sh            # -> target/release/eks-breakglass, target/release/man/
#
# Uses the `release` profile of Cargo.toml (thin LTO, 4 codegen units, stripped), --locked.
# The cross-platform archives (x86_64/aarch64 Linux musl, macOS) are cargo-dist's job: see
# dist-workspace.toml and the README's "Releases"; `dist plan` lists them.
# CARGO_BUILD_JOBS limits parallelism on a shared machine (e.g. CARGO_BUILD_JOBS=1).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo build --release --locked -p eks-breakglass ($(rustc --version))"
start=$(date +%s)
cargo build --release --locked -p eks-breakglass
end=$(date +%s)
bin=target/release/eks-breakglass

echo "==> man pages"
rm -rf target/release/man
"$bin" man --dir target/release/man >/dev/null
echo "    $(ls target/release/man | wc -l) pages in target/release/man"

echo "==> the binary"
"$bin" version
size=$(stat -c %s "$bin" 2>/dev/null || stat -f %z "$bin")
sha=$( (sha256sum "$bin" 2>/dev/null || shasum -a 256 "$bin") | cut -d' ' -f1)
printf '%s: %d bytes (%.1f MiB), sha256 %s\n' "$bin" "$size" "$(echo "$size / 1048576" | bc -l)" "$sha"
if command -v file >/dev/null; then file -b "$bin"; fi
echo "built in $((end - start)) s"
