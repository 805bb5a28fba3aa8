#!/usr/bin/env bash
# Real-AWS acceptance kit: proves eks-breakglass on a disposable EKS cluster that you name.
#
#   scripts/aws-acceptance.sh --cluster NAME [--region REGION] --i-understand
#                             [--break seed|unmap] [--allow-auth-mode-change] [--run-dir DIR]
#
# What it does, in order, with a timing and the AWS calls of every step in the final report:
#   preflight  who you are (sts GetCallerIdentity), the cluster (eks DescribeCluster): it must be
#              tagged eks-breakglass/acceptance=disposable, and its aws-auth must lint clean
#   snapshot   `eks-breakglass aws-auth snapshot` (the known-good copy) and a raw kubectl backup
#   break      the seed incident, for real: an indentation error in the aws-auth entry that maps
#              you (the whole section is lost) and the node role dropped from mapRoles
#              (`--break unmap`: your entry and the node role removed with valid YAML, for
#              clusters whose validating webhook refuses unparsable aws-auth)
#   recover    `eks-breakglass recover --from <snapshot> --yes` (the runbook's command)
#   verify     you are back in (a Kubernetes call as you), aws-auth lints clean, and it grants
#              exactly what the snapshot grants (`aws-auth diff --cluster`)
#   restore    `eks-breakglass aws-auth restore --from <snapshots> --exact --yes`: the cluster
#              ends as it started; auth mode and access entries are compared with the start
#
# It refuses (exit 2, nothing called or changed) without --i-understand, when AWS_PROFILE and
# AWS_DEFAULT_PROFILE (or AWS_REGION and AWS_DEFAULT_REGION) disagree, and (after two read-only
# calls, before writing anything) when the cluster lacks the tag. The region and profile it
# resolves are passed explicitly (--region, --profile) to the AWS CLI and to eks-breakglass, so
# the cluster whose tag is read is the one acted on. Killed (SIGTERM, SIGHUP, Ctrl-C) it
# reports FAILED, with the way back when aws-auth may still be broken. Tag a cluster you can lose:
#   aws eks tag-resource --resource-arn <cluster ARN> --tags eks-breakglass/acceptance=disposable
#
# For a meaningful run the caller should be mapped in aws-auth (mapUsers or mapRoles) and not be
# the cluster creator, so that the break really locks them out and recover must find a way back
# in (the creator, or an access entry). It needs the IAM permissions of
# `eks-breakglass policy recover` (and `policy restore`), plus eks:DescribeCluster and
# eks:ListAccessEntries for its own reads, and write access to aws-auth for the break; the
# tools: eks-breakglass, aws (CLI v1 or v2), kubectl, python3.
#
# Never run by the test command against AWS: tests/aws_acceptance.rs runs this same script
# against the local world (moto + eks-sim), whose endpoints come from the environment
# (AWS_ENDPOINT_URL_<SERVICE>), exactly as the product and the AWS CLI read them.
#
# Environment: EKS_BREAKGLASS (the binary, default eks-breakglass on PATH), AWS_CLI (default
# aws), KUBECTL (default kubectl), PYTHON (default python3), plus the usual AWS_* variables.
# Exit: 0 passed; 1 a step failed (the report says which, and how to put the cluster back);
# 2 refused or bad usage.
set -euo pipefail

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "See the header of $0 for what it does." >&2
}

die_usage() {
  echo "aws-acceptance: $*" >&2
  exit 2
}

cluster=""
region=""
understood=false
break_mode=seed
allow_mode_change=false
run_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cluster) cluster="${2:-}"; shift 2 || die_usage "--cluster needs a NAME" ;;
    --cluster=*) cluster="${1#*=}"; shift ;;
    --region) region="${2:-}"; shift 2 || die_usage "--region needs a REGION" ;;
    --region=*) region="${1#*=}"; shift ;;
    --i-understand) understood=true; shift ;;
    --break) break_mode="${2:-}"; shift 2 || die_usage "--break needs seed or unmap" ;;
    --break=*) break_mode="${1#*=}"; shift ;;
    --allow-auth-mode-change) allow_mode_change=true; shift ;;
    --run-dir) run_dir="${2:-}"; shift 2 || die_usage "--run-dir needs a DIR" ;;
    --run-dir=*) run_dir="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage; die_usage "unknown argument: $1" ;;
  esac
done

[ -n "$cluster" ] || { usage; die_usage "name the disposable cluster with --cluster NAME"; }
case "$break_mode" in seed|unmap) ;; *) die_usage "--break must be seed or unmap, not '$break_mode'" ;; esac
if [ "$understood" != true ]; then
  cat >&2 <<EOF
aws-acceptance: refusing to run without --i-understand.
This script BREAKS kube-system/aws-auth of cluster '$cluster' on purpose (it locks you and the
nodes out), then recovers and restores it. Run it only against a disposable cluster tagged
eks-breakglass/acceptance=disposable, and pass --i-understand to say that you know.
EOF
  exit 2
fi

EKS_BREAKGLASS="${EKS_BREAKGLASS:-eks-breakglass}"
AWS_CLI="${AWS_CLI:-aws}"
KUBECTL="${KUBECTL:-kubectl}"
PYTHON="${PYTHON:-python3}"
for tool in "$EKS_BREAKGLASS" "$AWS_CLI" "$KUBECTL" "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || die_usage "$tool is not installed (or not on PATH)"
done

# One region and one identity, resolved here and passed explicitly (--region, --profile) to
# every tool: the AWS CLI v1 ignores AWS_REGION and botocore prefers AWS_DEFAULT_PROFILE over
# AWS_PROFILE, while the product reads AWS_REGION and AWS_PROFILE; left to themselves, the tag
# check and the product could address different clusters. Ambiguity is refused, not guessed.
if [ -n "${AWS_PROFILE:-}" ] && [ -n "${AWS_DEFAULT_PROFILE:-}" ] && [ "$AWS_PROFILE" != "$AWS_DEFAULT_PROFILE" ]; then
  die_usage "AWS_PROFILE ($AWS_PROFILE) and AWS_DEFAULT_PROFILE ($AWS_DEFAULT_PROFILE) disagree: the AWS CLI and eks-breakglass would act as different identities. Unset one of them; nothing was called or changed."
fi
profile="${AWS_PROFILE:-${AWS_DEFAULT_PROFILE:-}}"
if [ -z "$region" ]; then
  if [ -n "${AWS_REGION:-}" ] && [ -n "${AWS_DEFAULT_REGION:-}" ] && [ "$AWS_REGION" != "$AWS_DEFAULT_REGION" ]; then
    die_usage "AWS_REGION ($AWS_REGION) and AWS_DEFAULT_REGION ($AWS_DEFAULT_REGION) disagree: the AWS CLI and eks-breakglass would act in different regions. Pass --region or unset one; nothing was called or changed."
  fi
  region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
  if [ -z "$region" ]; then
    region="$("$AWS_CLI" configure get region ${profile:+--profile "$profile"} 2>/dev/null || true)"
  fi
fi
[ -n "$region" ] || die_usage "no AWS region: pass --region REGION (or set AWS_REGION); nothing was called or changed"
region_args=(--region "$region")
[ -n "$profile" ] && region_args+=(--profile "$profile")

# Nothing is written before the tag check passes: the script's own AWS calls are kept in
# memory until the run directory exists.
own_calls_pending=()
own_calls=""
json_get() { "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d.get(k) if isinstance(d, dict) else None
print("" if d is None else (json.dumps(d) if isinstance(d, (dict, list)) else d))' "$1"; }
# The AWS CLI, for the reads the product does not print (tags, access entries).
awsq() {
  local action="$1"
  shift
  # (Called in $(…), a subshell: the calls before the run directory exists are recorded by
  # the caller, in own_calls_pending.)
  [ -z "$own_calls" ] || echo "$action" >>"$own_calls"
  "$AWS_CLI" "${region_args[@]}" --output json "$@"
}

echo "region: $region; profile: ${profile:-default}"
own_calls_pending+=(sts:GetCallerIdentity)
caller_arn="$(awsq sts:GetCallerIdentity sts get-caller-identity | json_get Arn)"
echo "caller: $caller_arn"
own_calls_pending+=(eks:DescribeCluster)
describe="$(awsq eks:DescribeCluster eks describe-cluster --name "$cluster")"
cluster_arn="$(echo "$describe" | json_get cluster.arn)"
tag="$(echo "$describe" | json_get cluster.tags | "$PYTHON" -c 'import json,sys
t = sys.stdin.read().strip()
print((json.loads(t) if t else {}).get("eks-breakglass/acceptance", ""))')"
if [ "$tag" != disposable ]; then
  cat >&2 <<EOF
aws-acceptance: refusing: cluster '$cluster' ($cluster_arn, region $region, profile ${profile:-default}) is not tagged
eks-breakglass/acceptance=disposable (found: '${tag:-no such tag}'). Nothing was changed.
If, and only if, this cluster may be broken and repaired, tag it:
  aws eks tag-resource --resource-arn $cluster_arn --tags eks-breakglass/acceptance=disposable
EOF
  exit 2
fi
case "$cluster_arn" in
  "arn:"*":eks:$region:"*":cluster/$cluster") ;;
  *) die_usage "the tagged cluster's ARN ($cluster_arn) is not cluster '$cluster' in $region; nothing was changed" ;;
esac

# The tag check passed: only now the run directory. A new one is created private; an existing
# one is used as it is (its mode is the user's business; files written in it are 0600).
if [ -z "$run_dir" ]; then
  run_dir="$PWD/aws-acceptance-$(date -u +%Y%m%dT%H%M%SZ)-$cluster"
fi
if [ ! -e "$run_dir" ]; then
  (umask 077 && mkdir -p "$run_dir")
fi
umask 077
mkdir -p "$run_dir/calls"
run_dir="$(cd "$run_dir" && pwd)"
# Everything the product writes (journals, kubeconfig) stays in the run directory.
export XDG_STATE_HOME="$run_dir/state"
kubeconfig="$run_dir/kubeconfig"

# ---------------------------------------------------------------------------------------------
# Bookkeeping: phases with timings, the script's own AWS calls, the product's call logs.

timings="$run_dir/timings.tsv"
own_calls="$run_dir/calls/00-script.txt"
: >"$timings"
printf '%s\n' "${own_calls_pending[@]}" >"$own_calls"
phase_name=""
phase_start=0
now_ms() { "$PYTHON" -c 'import time; print(int(time.time() * 1000))'; }
begin() {
  phase_name="$1"
  phase_start="$(now_ms)"
  echo
  echo "==> $1: $2"
}
end_phase() {
  local status="$1"
  printf '%s\t%s\t%s\n' "$phase_name" "$(($(now_ms) - phase_start))" "$status" >>"$timings"
  phase_name=""
}
n_call=0
# The product, with its AWS calls recorded per step.
ebg() {
  n_call=$((n_call + 1))
  local log name="$1"
  [ "$1" = aws-auth ] && name="aws-auth-$2"
  log="$run_dir/calls/$(printf '%02d' "$n_call")-${phase_name:-x}-$name.jsonl"
  echo "\$ eks-breakglass $*" >&2
  "$EKS_BREAKGLASS" "${region_args[@]}" --call-log "$log" "$@"
}
kube() { "$KUBECTL" --kubeconfig "$kubeconfig" --request-timeout=30s "$@"; }

broken=false
result="FAILED"
failed_step=""
# PASSED needs the last line of the script to have run: a signal (CI timeout, a dropped SSH
# session, Ctrl-C) can end the run with $? = 0 in the EXIT trap.
finished=false
killed=""
# The script's own stdout/stderr: a signal can arrive while a step's output is redirected to a
# file (recover.json), and the report must still reach the terminal.
exec 3>&1 4>&2
on_signal() {
  killed="$1"
  exit "$2"
}
trap 'on_signal SIGTERM 143' TERM
trap 'on_signal SIGHUP 129' HUP
trap 'on_signal SIGINT 130' INT
report() {
  local rc=$?
  exec 1>&3 2>&4
  if [ "$finished" != true ] && [ "$rc" -eq 0 ]; then rc=1; fi
  if [ -n "$killed" ]; then
    echo "aws-acceptance: killed by $killed" >&2
  fi
  if [ -n "$phase_name" ]; then
    failed_step="$phase_name"
    end_phase "failed (exit $rc)"
  fi
  [ "$rc" -eq 0 ] && result="PASSED"
  "$PYTHON" - "$run_dir" "$result" "$cluster" "${caller_arn:-?}" "${cluster_arn:-?}" "$break_mode" \
    "${locked_out:-?}" "${way_in:-?}" <<'EOF' | tee "$run_dir/report.md"
import glob, json, os, sys
from collections import Counter
run, result, cluster, caller, cluster_arn, mode, locked, way = sys.argv[1:9]
print()
print(f"# eks-breakglass acceptance: {result}")
print()
print(f"- cluster: {cluster} ({cluster_arn})")
print(f"- caller: {caller}")
print(f"- break: {mode}; the caller was locked out by it: {locked}; recover got in via: {way}")
print(f"- run directory: {run}")
print()
print("| step | seconds | status |")
print("|---|---:|---|")
total = 0
for line in open(os.path.join(run, "timings.tsv")):
    name, ms, status = line.rstrip("\n").split("\t")
    total += int(ms)
    print(f"| {name} | {int(ms) / 1000:.2f} | {status} |")
print(f"| total | {total / 1000:.2f} | |")
print()
print("AWS calls made (IAM action: count), per command:")
grand = Counter()
own = [l.strip() for l in open(os.path.join(run, "calls", "00-script.txt")) if l.strip()]
if own:
    c = Counter(own)
    grand.update(c)
    print(f"- this script (AWS CLI): " + ", ".join(f"{a} {n}" for a, n in sorted(c.items())))
for path in sorted(glob.glob(os.path.join(run, "calls", "*.jsonl"))):
    c = Counter()
    for line in open(path):
        if line.strip():
            c[json.loads(line)["action"]] += 1
    grand.update(c)
    name = os.path.basename(path)[:-len(".jsonl")]
    print(f"- {name}: " + (", ".join(f"{a} {n}" for a, n in sorted(c.items())) or "none"))
print(f"- all: {sum(grand.values())} calls, " + ", ".join(f"{a} {n}" for a, n in sorted(grand.items())))
EOF
  if [ "$rc" -ne 0 ]; then
    echo
    echo "FAILED at: ${failed_step:-preflight} (exit $rc${killed:+, killed by $killed}). Logs and call logs: $run_dir"
    if [ "$broken" = true ]; then
      cat <<EOF
The cluster's aws-auth may still be broken. Put it back with an identity that can get in
(the creator, or an access entry):
  eks-breakglass aws-auth restore --cluster $cluster ${region_args[*]} --from $run_dir/snapshots --exact
or, with kubectl as such an identity:
  kubectl replace -f $run_dir/aws-auth.restore.json
EOF
    fi
  fi
  exit "$rc"
}
trap report EXIT

# ---------------------------------------------------------------------------------------------
begin preflight "who you are, the cluster, its tag, its aws-auth (read-only)"
auth_mode_before="$(echo "$describe" | json_get cluster.accessConfig.authenticationMode)"
echo "tag eks-breakglass/acceptance=disposable: present; authentication mode: ${auth_mode_before:-CONFIG_MAP}"
entries_before="[]"
if [ -n "$auth_mode_before" ] && [ "$auth_mode_before" != CONFIG_MAP ]; then
  entries_before="$(awsq eks:ListAccessEntries eks list-access-entries --cluster-name "$cluster" | json_get accessEntries)"
fi
ebg kubeconfig --cluster "$cluster" --kubeconfig "$kubeconfig" --alias "acceptance-$cluster" >/dev/null
if ! ebg aws-auth lint --cluster "$cluster"; then
  echo "aws-acceptance: the cluster's aws-auth is not healthy before the test (or cannot be read as you): fix that first; nothing was changed" >&2
  exit 1
fi
end_phase ok

# ---------------------------------------------------------------------------------------------
begin snapshot "the known-good copy (eks-breakglass aws-auth snapshot) and a raw backup"
ebg aws-auth snapshot --cluster "$cluster" --to "$run_dir/snapshots"
snap_file="$run_dir/snapshots/$cluster.aws-auth.yaml"
[ -s "$snap_file" ] || { echo "no snapshot at $snap_file" >&2; exit 1; }
kube -n kube-system get configmap aws-auth -o json >"$run_dir/aws-auth.before.json"
# A copy kubectl can replace with as-is (no resourceVersion): the manual way back.
"$PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))
for k in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
    d.get("metadata", {}).pop(k, None)
json.dump(d, open(sys.argv[2], "w"), indent=2)' "$run_dir/aws-auth.before.json" "$run_dir/aws-auth.restore.json"
chmod 600 "$run_dir"/aws-auth.*.json
end_phase ok

# ---------------------------------------------------------------------------------------------
begin break "the seed incident ($break_mode): the entry that maps you, and the node role"
"$PYTHON" - "$run_dir/aws-auth.before.json" "$run_dir/aws-auth.broken.json" "$caller_arn" "$break_mode" <<'EOF'
# Breaks aws-auth as the seed incident did, on the text of the live ConfigMap:
# seed:  in the entry that maps the caller, the line after the ARN loses one space of
#        indentation (`kubectl edit` slip): go-yaml fails, the whole section is lost;
#        and the node role entry (group system:nodes) is deleted from mapRoles.
# unmap: the caller's entry and the node role entry are deleted; the YAML stays valid
#        (for clusters whose validating webhook refuses unparsable aws-auth).
import json, re, sys
src, dst, caller, mode = sys.argv[1:5]
cm = json.load(open(src))
data = cm.get("data") or {}
# The ARN aws-auth matches: an assumed-role session maps as its role (path-free name).
m = re.match(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/", caller)
if m:
    want_role = m.group(3).lower()
    def is_caller(key, arn):
        return key == "rolearn" and arn.lower().rsplit("/", 1)[-1] == want_role and ":role/" in arn.lower()
else:
    def is_caller(key, arn):
        return arn.lower() == caller.lower()

def entries(text):
    """(start, end) line ranges of the top-level `- ` items of a YAML list."""
    lines = text.split("\n")
    starts = [i for i, l in enumerate(lines) if l.startswith("- ")]
    return lines, [(s, (starts[j + 1] if j + 1 < len(starts) else len(lines))) for j, s in enumerate(starts)]

def entry_arn(lines, s, e):
    for l in lines[s:e]:
        mm = re.match(r"^[- ] *(rolearn|userarn):\s*['\"]?([^'\"\s]+)", l)
        if mm:
            return mm.group(1), mm.group(2)
    return None, None

def is_node(lines, s, e):
    return any("system:nodes" in l for l in lines[s:e])

hit = None
for section in ("mapUsers", "mapRoles"):
    text = data.get(section)
    if not text:
        continue
    lines, items = entries(text)
    for s, e in items:
        key, arn = entry_arn(lines, s, e)
        if arn and is_caller(key, arn):
            hit = (section, s, e)
            break
    if hit:
        break
if not hit:
    print(f"note: {caller} is not mapped in aws-auth: the break will not lock you out "
          "(recover then repairs it with your own access)", file=sys.stderr)
    for section in ("mapUsers", "mapRoles"):
        text = data.get(section)
        if text:
            lines, items = entries(text)
            cand = [(s, e) for s, e in items if not is_node(lines, s, e) and e - s > 1]
            if cand:
                hit = (section, cand[-1][0], cand[-1][1])
                break
if not hit:
    sys.exit("aws-auth has no entry to break (neither mapUsers nor mapRoles has a non-node entry)")

section, s, e = hit
lines = data[section].split("\n")
# Identities the break unmaps: putting them back is new access as far as the broken aws-auth
# says, so recover asks for a consent that names each (--allow-access-gain).
removed = []
if mode == "seed":
    # The line after `- rolearn|userarn:` sits at two spaces; one less breaks the section.
    second = s + 1
    if not lines[second].startswith("  "):
        sys.exit(f"unexpected layout in {section} line {second + 1}: {lines[second]!r}")
    lines[second] = lines[second][1:]
    print(f"{section}: line {second + 1} de-indented by one space: {lines[second]!r}", file=sys.stderr)
else:
    removed.append(entry_arn(lines, s, e)[1])
    del lines[s:e]
    print(f"{section}: entry at line {s + 1} removed", file=sys.stderr)
data[section] = "\n".join(lines)
roles = data.get("mapRoles")
if roles and not (section == "mapRoles" and mode == "seed"):
    lines, items = entries(roles)
    for s2, e2 in reversed(items):
        if is_node(lines, s2, e2):
            removed.append(entry_arn(lines, s2, e2)[1])
            del lines[s2:e2]
            print(f"mapRoles: node role entry at line {s2 + 1} removed", file=sys.stderr)
    data["mapRoles"] = "\n".join(lines)
cm["data"] = data
json.dump(cm, open(dst, "w"), indent=2)
with open(dst + ".unmapped", "w") as f:
    f.write("".join(a + "\n" for a in removed if a))
EOF
broken=true
if ! kube replace -f "$run_dir/aws-auth.broken.json" >"$run_dir/break.out" 2>&1; then
  cat "$run_dir/break.out" >&2
  broken=false
  if grep -qi "admission webhook" "$run_dir/break.out"; then
    echo "aws-acceptance: this cluster's validating webhook refuses unparsable aws-auth (it is protected against the seed's exact mistake); re-run with --break unmap" >&2
  fi
  exit 1
fi
cat "$run_dir/break.out"
if ebg aws-auth show --cluster "$cluster" >/dev/null 2>"$run_dir/locked-out.err"; then
  locked_out=no
  echo "after the break you can still read aws-auth (you are the creator, or have an access entry)"
else
  locked_out=yes
  echo "after the break you are locked out: $(grep -m1 '^error:' "$run_dir/locked-out.err" || true)"
fi
end_phase ok

# ---------------------------------------------------------------------------------------------
begin recover "eks-breakglass recover --from the snapshot (the runbook's one command)"
recover_args=(recover --cluster "$cluster" --from "$snap_file" --yes --journal-dir "$run_dir/recover")
[ "$allow_mode_change" = true ] && recover_args+=(--allow-auth-mode-change)
# The kit itself unmapped these identities: name each in the access-gain consent (a snapshot
# that maps someone the live aws-auth does not is new access, and `--yes` alone never allows it).
while IFS= read -r arn; do
  [ -n "$arn" ] && recover_args+=(--allow-access-gain "$arn")
done <"$run_dir/aws-auth.broken.json.unmapped"
ebg "${recover_args[@]}" --output json >"$run_dir/recover.json"
way_in="$("$PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))
r = d.get("report") or {}
print(r.get("via") or r.get("path") or r.get("way_in") or "see recover.json")' "$run_dir/recover.json")"
echo "recover finished; incident report: $run_dir/recover/incident-report.md"
end_phase ok

# ---------------------------------------------------------------------------------------------
begin verify "you are back in, aws-auth lints clean and grants what the snapshot grants"
kube -n kube-system get configmap aws-auth -o name
ebg aws-auth lint --cluster "$cluster"
ebg aws-auth diff --cluster "$cluster" "$snap_file" --output json >"$run_dir/verify-diff.json"
"$PYTHON" - "$run_dir/verify-diff.json" <<'EOF'
import json, sys
def changes(x, path):
    """Every non-empty list under the diff's mapping (roles.added, users.changed, …)."""
    if isinstance(x, list):
        return {path: x} if x else {}
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            out.update(changes(v, f"{path}.{k}" if path else k))
        return out
    return {}
changed = changes(json.load(open(sys.argv[1]))["mapping"], "")
if changed:
    sys.exit(f"the recovered aws-auth does not grant what the snapshot grants: {json.dumps(changed)}")
print("the recovered aws-auth grants exactly what the snapshot grants")
EOF
end_phase ok

# ---------------------------------------------------------------------------------------------
begin restore "the cluster as it started: aws-auth from the snapshot, auth mode, access entries"
ebg aws-auth restore --cluster "$cluster" --from "$run_dir/snapshots" --exact --yes --journal-dir "$run_dir/restore"
broken=false
describe_after="$(awsq eks:DescribeCluster eks describe-cluster --name "$cluster")"
auth_mode_after="$(echo "$describe_after" | json_get cluster.accessConfig.authenticationMode)"
if [ "$auth_mode_after" != "$auth_mode_before" ]; then
  echo "note: the authentication mode changed from ${auth_mode_before:-CONFIG_MAP} to $auth_mode_after (one-way: --allow-auth-mode-change)"
fi
entries_after="[]"
if [ -n "$auth_mode_after" ] && [ "$auth_mode_after" != CONFIG_MAP ]; then
  entries_after="$(awsq eks:ListAccessEntries eks list-access-entries --cluster-name "$cluster" | json_get accessEntries)"
fi
"$PYTHON" -c 'import json,sys
before, after = (set(json.loads(x or "[]")) for x in sys.argv[1:3])
if after - before:
    sys.exit("access entries left behind: " + ", ".join(sorted(after - before)))
if before - after:
    sys.exit("access entries missing: " + ", ".join(sorted(before - after)))
print("access entries as before (%d)" % len(before))' "$entries_before" "$entries_after"
ebg aws-auth diff --cluster "$cluster" "$snap_file" --output json >"$run_dir/restore-diff.json"
"$PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))
if d.get("text"):
    sys.exit("aws-auth differs from the snapshot after the restore:\n" + d["text"])
print("aws-auth is the snapshot again, byte for byte in its mappings")' "$run_dir/restore-diff.json"
end_phase ok
finished=true
