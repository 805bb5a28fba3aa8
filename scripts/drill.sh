#!/usr/bin/env bash
# The incident drill: a locked-out EKS cluster, rebuilt locally, recovered with one command.
#
#   scripts/drill.sh                                     the seed incident (sim/scenarios/incident.yaml)
#   scripts/drill.sh sim/scenarios/creator-deleted-api.yaml
#   scripts/drill.sh creator-deleted-configmap           (a name under sim/scenarios/ works too)
#
# Builds eks-breakglass and eks-sim (debug), starts moto (from .venv, created like scripts/test.sh
# does when missing) and eks-sim with the scenario, then runs what the runbook says:
# `eks-breakglass diagnose`, `eks-breakglass recover --yes`, and shows that access is back
# (kubectl through a kubeconfig written by `eks-breakglass kubeconfig`, and
# `eks-breakglass aws-auth show --cluster`). Everything it starts is stopped on exit; the run
# directory (journal, backups, incident report) is kept under target/drill/.
#
# Nothing here talks to AWS: every AWS endpoint points at the local world.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

scenario="${1:-sim/scenarios/incident.yaml}"
if [ ! -f "$scenario" ] && [ -f "sim/scenarios/$scenario.yaml" ]; then
  scenario="sim/scenarios/$scenario.yaml"
fi
[ -f "$scenario" ] || { echo "no scenario file $scenario (see sim/scenarios/)" >&2; exit 2; }

venv=.venv
req=scripts/requirements-test.txt
if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/python" ]; then
  echo "==> creating the venv ($venv) from $req"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.requirements"
fi

echo "==> building eks-breakglass and eks-sim (debug)"
cargo build --quiet -p eks-breakglass -p eks-sim
bin="$root/target/debug/eks-breakglass"
sim="$root/target/debug/eks-sim"

name="$(basename "$scenario" .yaml)"
work="$root/target/drill/$(date -u +%Y%m%dT%H%M%SZ)-$name"
mkdir -p "$work"
chmod 700 "$work"

pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
echo "==> starting moto on 127.0.0.1:$port"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then break; fi
  sleep 0.2
done

echo "==> starting eks-sim with $scenario"
"$sim" --scenario "$scenario" --moto "http://127.0.0.1:$port" --state "$work/sim-state.json" \
  >"$work/sim-env.sh" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 1 600); do
  [ -s "$work/sim-state.json" ] && break
  if ! kill -0 "${pids[1]}" 2>/dev/null; then
    echo "eks-sim stopped:" >&2; cat "$work/sim.log" >&2; exit 1
  fi
  sleep 0.2
done
[ -s "$work/sim-state.json" ] || { echo "eks-sim did not start" >&2; cat "$work/sim.log" >&2; exit 1; }

# The product sees the local world only through the standard AWS environment.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL KUBERNETES_EXEC_INFO
while IFS= read -r line; do
  case "$line" in export\ AWS_*=*) export "${line#export }" ;; esac
done < <("$venv/bin/python" -c '
import json, sys
doc = json.load(open(sys.argv[1]))
for k, v in doc["env"].items():
    print(f"export {k}={v}")
' "$work/sim-state.json")
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true

export KUBECONFIG="$work/kubeconfig" XDG_STATE_HOME="$work/state"
cluster="$("$venv/bin/python" -c 'import json,sys; print(next(iter(json.load(open(sys.argv[1]))["clusters"])))' "$work/sim-state.json")"

echo
echo "==> the incident: cluster $cluster, you are $("$venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["operator"]["arn"])' "$work/sim-state.json")"
echo "\$ eks-breakglass diagnose --cluster $cluster"
"$bin" diagnose --cluster "$cluster"

# The drill passes the consent flag only when the best way in needs it (creator deleted on a
# CONFIG_MAP cluster: the one-way switch to API_AND_CONFIG_MAP, then an access entry).
flags=()
consent="$("$bin" diagnose --cluster "$cluster" --output json | "$venv/bin/python" -c '
import json, sys
paths = [p for p in json.load(sys.stdin)["paths"] if p["automatic"]]
print(paths[0]["consent"] or "" if paths else "")
')"
if [ -n "$consent" ]; then
  echo
  echo "==> the best way in needs $consent (a one-way change): the drill passes it"
  flags+=("$consent")
fi

echo
echo "\$ eks-breakglass recover --cluster $cluster --yes ${flags[*]:-}"
run_dir="$work/run"
start=$(date +%s.%N)
"$bin" recover --cluster "$cluster" --yes --journal-dir "$run_dir" "${flags[@]}"
end=$(date +%s.%N)

echo
echo "==> access is back"
"$bin" kubeconfig --cluster "$cluster" --alias "$cluster-drill" >/dev/null
if command -v kubectl >/dev/null; then
  echo "\$ kubectl -n kube-system get configmap aws-auth -o yaml   (kubeconfig from eks-breakglass kubeconfig)"
  kubectl --request-timeout=20s -n kube-system get configmap aws-auth -o yaml
  echo "\$ kubectl auth whoami"
  kubectl --request-timeout=20s auth whoami || true
else
  echo "(kubectl is not installed: skipping the kubectl check)"
fi
echo "\$ eks-breakglass aws-auth show --cluster $cluster"
"$bin" aws-auth show --cluster "$cluster"

echo
printf '==> recover took %.2f s; report: %s\n' "$(echo "$end - $start" | bc)" "$run_dir/incident-report.md"
echo "    journal and backups: $run_dir"
echo "    remove what was temporary: $bin cleanup --journal $run_dir"
echo "    roll the run back:         $bin cleanup --journal $run_dir --rollback"
