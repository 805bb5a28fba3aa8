#!/usr/bin/env bash
# Benchmarks with printed ratios (never timing assertions in tests).
#
#   scripts/bench.sh            all benchmarks
#   scripts/bench.sh token      eks-breakglass token vs aws eks get-token (target: >= 50x faster)
#   scripts/bench.sh lint       aws-auth lint of a 5,000-entry aws-auth (target: < 50 ms)
#   scripts/bench.sh creator    creator vs paging through CloudTrail with awscli, 100k events (calls, time)
#   scripts/bench.sh audit      audit --org-role of 200 clusters in 3 accounts x 4 regions, --concurrency 16 vs 1 (target: < 10 s)
#   scripts/bench.sh audit-1000 audit --org-role of 1,000 clusters in 50 accounts x 17 regions (target: < 60 s);
#                               ratio against the serial estimate (calls x latency); not in the default set
#   scripts/bench.sh recover    recover on the drill scenario (sim/scenarios/incident.yaml), each run
#                               in a fresh moto + eks-sim world with realistic IAM/EKS propagation
#                               delays (the sim's defaults) and auth-mode updates of
#                               RECOVER_UPDATE_DELAY s (default 30, as the drill), right after
#                               `diagnose` as on call (RECOVER_COLD=1: recover alone): per run and
#                               as medians, wall time, the waits the world imposed, the tool's own
#                               time and its ratio to the waits (target < 10 %), with the report's
#                               AWS call counts; RECOVER_RUNS=N runs (default 3),
#                               RECOVER_SCENARIO=FILE another scenario
#
# Builds the release binary first (BIN=PATH uses that binary instead); RUNS=N changes the
# number of runs (default 25).
# audit: one moto and one eks-sim world holding an AWS Organization (the management account and
# two members) with clusters in 4 regions of each (scripts/gen_fleet.py org_scenario), audited
# with `audit --org-role OrganizationAccountAccessRole --regions …`. LATENCY_MS (default 50) is
# added to every request to the sim, like a round trip to an AWS region; CONCURRENCY (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-25}"
what=("$@")
[ ${#what[@]} -eq 0 ] && what=(token lint creator recover audit)

if [ ! -x .venv/bin/aws ]; then
  echo "the test venv is missing: run scripts/test.sh once (it installs moto and awscli)" >&2
  exit 2
fi
if [ -n "${BIN:-}" ]; then
  bin="$BIN"   # e.g. BIN=target/debug/eks-breakglass to skip the release build
else
  echo "==> building the release binary"
  cargo build --release --quiet -p eks-breakglass
  bin="$PWD/target/release/eks-breakglass"
fi

# Timings are the build's: a debug build is several times slower than release. Say so.
profile="$("$bin" version 2>/dev/null | sed -n 's/^profile: *//p')"
profile="${profile:-unknown}"
debug_note() {
  [ "$profile" = release ] || echo "==> NOTE: $bin is a $profile build, NOT release: the tool's times here are larger than a release build's (the targets are for release)"
}
debug_note

status=0
for w in "${what[@]}"; do
  case "$w" in
    token) .venv/bin/python scripts/bench_lib.py token "$bin" "$PWD/.venv/bin/aws" "$runs" || status=1 ;;
    recover)
      cargo build --quiet -p eks-sim
      .venv/bin/python scripts/bench_lib.py recover "$bin" "$PWD/target/debug/eks-sim" "$PWD/.venv" \
        "${RECOVER_SCENARIO:-$PWD/sim/scenarios/incident.yaml}" "${RECOVER_RUNS:-3}" || status=1 ;;
    lint)
      mkdir -p .bench
      .venv/bin/python scripts/bench_lib.py lint "$bin" "$runs" "$PWD/.bench" || status=1 ;;
    creator)
      cargo build --quiet -p eks-sim
      .venv/bin/python scripts/bench_creator.py "$bin" || status=1 ;;
    audit)
      cargo build --quiet -p eks-sim
      .venv/bin/python scripts/bench_lib.py audit "$bin" "$PWD/target/debug/eks-sim" "$PWD" || status=1 ;;
    audit-1000)
      cargo build --quiet -p eks-sim
      .venv/bin/python scripts/bench_lib.py audit-1000 "$bin" "$PWD/target/debug/eks-sim" "$PWD" || status=1 ;;
    *) echo "unknown benchmark '$w' (known: token, lint, creator, recover, audit, audit-1000)" >&2; exit 2 ;;
  esac
done
debug_note
exit $status
