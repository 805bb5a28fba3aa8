#!/usr/bin/env bash
# The test command (README, CI): installs what the tests need, then runs every check.
#
# - a Python venv in .venv with the pinned moto[server] and awscli (scripts/requirements-test.txt),
#   created or refreshed when missing or when the pins change;
# - the aws-auth oracle (tools/awsauth-oracle/build.sh: Debian's golang-go and YAML libraries);
# - cargo fmt --check, clippy with warnings denied, and the whole workspace's tests (unit,
#   integration against moto + eks-sim, property tests, the oracle differential with
#   ORACLE_CASES fuzz cases, 5,000 unless set).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
req=scripts/requirements-test.txt
if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/aws" ] || ! cmp -s "$req" "$venv/.requirements" 2>/dev/null; then
  echo "==> creating the test venv ($venv) from $req"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.requirements"
fi

# The aws-auth oracle (tests/awsauth_oracle.rs): built from Debian's Go packages, installed
# when missing (as root); GOPATH mode, no module download. See docs/ground-truth.md.
echo "==> building the aws-auth oracle (tools/awsauth-oracle)"
tools/awsauth-oracle/build.sh >/dev/null

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "==> cargo test"
# Property tests run a bounded number of cases in CI (PROPTEST_CASES), more by hand.
PROPTEST_CASES="${PROPTEST_CASES:-256}" cargo test --workspace

echo "==> the full kill -9 sweep (21 moments across the three drill scenarios, then cleanup)"
cargo test -p eks-breakglass --test kill_sweep -- --ignored
