//! `policy` kept true: every command runs against moto + eks-sim (tests/fixtures/scenarios/
//! policy.yaml) with `--call-log`, along each path that needs a permission of its own, and the
//! IAM actions it really called are compared with `eks-breakglass policy COMMAND` both ways:
//! nothing used that the policy lacks, nothing listed that no scenario used.
//!
//! `sts:GetCallerIdentity` is exempt: it needs no permission. A listed action that no scenario
//! here could reach would be named in [`NOT_EXERCISED`] with the reason (there is none).

mod common;

use common::world::{World, arn, text};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Listed, but unreachable in this world (command, action, why). Empty: every listed action
/// is used by some scenario below.
const NOT_EXERCISED: &[(&str, &str, &str)] = &[(
    "migrate",
    "iam:PassRole",
    "EKS checks it inside CreateAccessEntry of an EC2_LINUX/EC2_WINDOWS entry (EKS User Guide, \
     \"Create access entries\"); it is not a call of its own, so no call log shows it",
)];

/// Actions that need no IAM permission.
const EXEMPT: &[&str] = &["sts:GetCallerIdentity"];

struct Runner<'a> {
    w: &'a World,
    used: BTreeMap<&'static str, BTreeSet<String>>,
    n: usize,
}

impl<'a> Runner<'a> {
    /// Runs the product as `command` with a call log; returns (exit code, stdout, stderr).
    fn run(
        &mut self,
        command: &'static str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, String, String) {
        self.n += 1;
        // Every command is checked as it runs cold: an earlier command's CloudTrail answers,
        // reused within minutes, would hide the LookupEvents it needs the first time.
        let _ = std::fs::remove_dir_all(self.w.path("state/eks-breakglass/cloudtrail-lookups"));
        let log = self.w.path(&format!("calls-{}.jsonl", self.n));
        let out = self
            .w
            .product()
            .args(args)
            .arg("--call-log")
            .arg(&log)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        let set = self.used.entry(command).or_default();
        for line in calls.lines() {
            let v: Value = serde_json::from_str(line).expect("call log line");
            set.insert(v["action"].as_str().unwrap().to_string());
        }
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    /// Like `run`, and the exit code must be one of `ok`.
    fn expect(&mut self, command: &'static str, args: &[&str], ok: &[i32]) -> String {
        self.expect_env(command, args, &[], ok)
    }

    fn expect_env(
        &mut self,
        command: &'static str,
        args: &[&str],
        env: &[(&str, &str)],
        ok: &[i32],
    ) -> String {
        let (code, stdout, stderr) = self.run(command, args, env);
        assert!(
            ok.contains(&code),
            "{args:?} exited {code}\n{stdout}\n{stderr}"
        );
        stdout
    }
}

fn journal(w: &World, name: &str) -> String {
    w.path(name).display().to_string()
}

/// The actions of `eks-breakglass policy [COMMAND]`.
fn declared(w: &World, command: Option<&str>) -> BTreeSet<String> {
    let out = w.product().arg("policy").args(command).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    let mut set = BTreeSet::new();
    for s in doc["Statement"].as_array().unwrap() {
        assert_eq!(s["Effect"], "Allow");
        for a in s["Action"].as_array().unwrap() {
            set.insert(a.as_str().unwrap().to_string());
        }
    }
    set
}

#[test]
fn every_command_uses_exactly_its_policy() {
    let w = World::start("policy");
    let op = w.operator();
    let deployer = arn("role/ci/deployer");
    let breakglass = arn("role/breakglass/breakglass");
    let blind = ["cloudtrail:LookupEvents", "cloudtrail:DescribeTrails"];
    let mut r = Runner {
        w: &w,
        used: BTreeMap::new(),
        n: 0,
    };

    // token, kubeconfig, aws-auth --cluster
    r.expect(
        "token",
        &["token", "--cluster", "by-user", "--role-arn", &deployer],
        &[0],
    );
    let kc = journal(&w, "kubeconfig");
    r.expect(
        "kubeconfig",
        &["kubeconfig", "--cluster", "by-user", "--kubeconfig", &kc],
        &[0],
    );
    r.expect(
        "aws-auth",
        &["aws-auth", "lint", "--cluster", "by-user"],
        &[0, 3],
    );

    // creator: CloudTrail (user, role), the S3 trail (200 days old), access entries (blind).
    for c in ["by-user", "by-role", "old"] {
        r.expect("creator", &["creator", "--cluster", c], &[0, 5]);
    }
    w.deny(&op, &blind);
    r.expect("creator", &["creator", "--cluster", "api-cluster"], &[0, 5]);
    w.deny(&op, &[]);

    // audit, before anything is recorded: --deep finds creators through CloudTrail and S3, then
    // blind through access entries; --org-role through moto's Organizations.
    r.expect(
        "audit",
        &[
            "audit",
            "--deep",
            "--breakglass-role",
            "breakglass/breakglass",
        ],
        &[0, 1, 3],
    );
    w.deny(&op, &blind);
    r.expect("audit", &["audit", "--deep"], &[0, 1, 3]);
    w.deny(&op, &[]);
    w.org_with_member();
    let (code, stdout, stderr) = r.run(
        "audit",
        &["audit", "--org-role", "OrganizationAccountAccessRole"],
        &[("AWS_ENDPOINT_URL_ORGANIZATIONS", w.moto.url.as_str())],
    );
    assert!([0, 1, 3].contains(&code), "{stdout}{stderr}");

    // assume-creator finds creators as `creator` does (dry runs: S3, and access entries).
    r.expect(
        "assume-creator",
        &["assume-creator", "--cluster", "old", "--dry-run"],
        &[0, 5],
    );
    w.deny(&op, &blind);
    r.expect(
        "assume-creator",
        &["assume-creator", "--cluster", "api-cluster", "--dry-run"],
        &[0, 5],
    );
    w.deny(&op, &[]);

    // diagnose and recover (dry runs) search like `creator`: node roles, CloudTrail, S3, and
    // access entries (blind), before `record` puts creators on the tags.
    for c in ["by-user", "by-role", "old"] {
        r.expect("diagnose", &["diagnose", "--cluster", c], &[0]);
    }
    r.expect(
        "recover",
        &["recover", "--cluster", "old", "--dry-run"],
        &[0],
    );
    w.deny(&op, &blind);
    r.expect("diagnose", &["diagnose", "--cluster", "api-cluster"], &[0]);
    r.expect(
        "recover",
        &["recover", "--cluster", "api-cluster", "--dry-run"],
        &[0],
    );
    w.deny(&op, &[]);

    // record: CloudTrail, S3, over an older record (undo puts it back), access entries (blind).
    let rec_user = journal(&w, "rec-user");
    r.expect(
        "record",
        &[
            "record",
            "--cluster",
            "by-user",
            "--yes",
            "--journal-dir",
            &rec_user,
        ],
        &[0],
    );
    r.expect("record", &["record", "--cluster", "old", "--yes"], &[0]);
    w.aws(&[
        "eks",
        "tag-resource",
        "--resource-arn",
        "arn:aws:eks:us-east-1:123456789012:cluster/by-role",
        "--tags",
        &format!("eks-breakglass/creator-arn={}", arn("user/someone-else")),
    ]);
    let rec_role = journal(&w, "rec-role");
    r.expect(
        "record",
        &[
            "record",
            "--cluster",
            "by-role",
            "--yes",
            "--journal-dir",
            &rec_role,
        ],
        &[0],
    );
    w.deny(&op, &blind);
    r.expect(
        "record",
        &["record", "--cluster", "api-cluster", "--yes"],
        &[0],
    );
    w.deny(&op, &[]);

    // audit again, with creators on the tags: IAM checks.
    r.expect(
        "audit",
        &["audit", "--breakglass-role", &breakglass],
        &[0, 1, 3],
    );

    // grant: an existing entry without admin (a role principal) that is stale (the role was
    // deleted and recreated: the entry is deleted and made again), and a mode switch.
    recreate_role(&w, "breakglass", "/breakglass/");
    let g_entry = journal(&w, "grant-entry");
    r.expect(
        "grant",
        &[
            "grant",
            "--cluster",
            "api-cluster",
            "--principal",
            &breakglass,
            "--yes",
            "--journal-dir",
            &g_entry,
        ],
        &[0],
    );
    let g_switch = journal(&w, "grant-switch");
    r.expect(
        "grant",
        &[
            "grant",
            "--cluster",
            "to-switch",
            "--allow-auth-mode-change",
            "--yes",
            "--journal-dir",
            &g_switch,
        ],
        &[0],
    );

    // migrate: stage one (mode switch, entries, the admin policy, a --verify-as login), then
    // stage two (every entry compared, the switch to API).
    r.expect(
        "migrate",
        &[
            "migrate",
            "--cluster",
            "to-migrate",
            "--allow-auth-mode-change",
            "API_AND_CONFIG_MAP",
            "--verify-as",
            &deployer,
            "--yes",
            "--wait",
            "20",
            "--journal-dir",
            &journal(&w, "migrate"),
        ],
        &[0],
    );
    r.expect(
        "migrate",
        &[
            "migrate",
            "--cluster",
            "to-migrate",
            "--switch-to-api",
            "--allow-auth-mode-change",
            "API",
            "--yes",
            "--wait",
            "20",
            "--journal-dir",
            &journal(&w, "migrate-api"),
        ],
        &[0],
    );

    // recover: as the creator user (temporary key), the creator role behind a trust patch
    // (removed at the end) and verified as a role, the access-entry route with the mode switch.
    // Exit 1 where the salvaged aws-auth maps nobody who could prove the result.
    for args in [
        vec!["--cluster", "by-user", "--via", "creator"],
        vec!["--cluster", "by-locked-role"],
        vec!["--cluster", "by-role", "--verify-as", deployer.as_str()],
        vec![
            "--cluster",
            "to-switch-2",
            "--via",
            "access-entry",
            "--allow-auth-mode-change",
        ],
    ] {
        let mut a = vec!["recover", "--yes", "--wait", "3"];
        a.extend(args);
        r.expect("recover", &a, &[0, 1]);
    }

    // assume-creator: a temporary key (deleted at the end, then kept), a trust patch, a
    // recreated role and user (refused by EKS: new unique ids, so a short --wait).
    r.expect(
        "assume-creator",
        &[
            "assume-creator",
            "--cluster",
            "by-user",
            "--no-kubeconfig",
            "--yes",
        ],
        &[0],
    );
    let a_key = journal(&w, "ac-key");
    let a_key_creds = format!("{a_key}-credentials");
    r.expect(
        "assume-creator",
        &[
            "assume-creator",
            "--cluster",
            "by-user",
            "--no-kubeconfig",
            "--keep",
            "--credentials-file",
            &a_key_creds,
            "--yes",
            "--journal-dir",
            &a_key,
        ],
        &[0],
    );
    let a_trust = journal(&w, "ac-trust");
    r.expect(
        "assume-creator",
        &[
            "assume-creator",
            "--cluster",
            "by-locked-role",
            "--no-kubeconfig",
            "--yes",
            "--journal-dir",
            &a_trust,
        ],
        &[0],
    );
    let a_role = journal(&w, "ac-role");
    r.expect(
        "assume-creator",
        &[
            "assume-creator",
            "--cluster",
            "by-gone-role",
            "--no-kubeconfig",
            "--wait",
            "2",
            "--yes",
            "--journal-dir",
            &a_role,
        ],
        &[0, 5],
    );
    let a_user = journal(&w, "ac-user");
    let a_user_creds = format!("{a_user}-credentials");
    r.expect(
        "assume-creator",
        &[
            "assume-creator",
            "--cluster",
            "by-gone-user",
            "--no-kubeconfig",
            "--wait",
            "2",
            "--keep",
            "--credentials-file",
            &a_user_creds,
            "--yes",
            "--journal-dir",
            &a_user,
        ],
        &[0, 5],
    );

    // aws-auth snapshot (a directory, S3), restore (from both, node roles kept, as the
    // creator role, verified as a role), edit (a no-op save through a scripted editor).
    let snaps = journal(&w, "snaps");
    r.expect(
        "aws-auth snapshot",
        &[
            "aws-auth",
            "snapshot",
            "--cluster",
            "by-user",
            "--to",
            &snaps,
        ],
        &[0],
    );
    r.expect(
        "aws-auth snapshot",
        &[
            "aws-auth",
            "snapshot",
            "--cluster",
            "by-user",
            "--to",
            "s3://trail-logs/snaps",
        ],
        &[0],
    );
    r.expect(
        "aws-auth restore",
        &[
            "aws-auth",
            "restore",
            "--cluster",
            "by-user",
            "--from",
            &snaps,
            "--yes",
        ],
        &[0],
    );
    r.expect(
        "aws-auth restore",
        &[
            "aws-auth",
            "restore",
            "--cluster",
            "by-user",
            "--from",
            "s3://trail-logs/snaps",
            "--yes",
        ],
        &[0],
    );
    let restore_role = journal(&w, "restore-role");
    r.expect(
        "aws-auth restore",
        &[
            "aws-auth",
            "restore",
            "--cluster",
            "by-role",
            "--from",
            "rebuild",
            "--admin-role",
            &deployer,
            "--role-arn",
            &deployer,
            "--yes",
            "--wait",
            "5",
            "--journal-dir",
            &restore_role,
        ],
        &[0],
    );
    // by-role has an aws-auth now: snapshot it as the role that wrote it.
    r.expect(
        "aws-auth snapshot",
        &[
            "aws-auth",
            "snapshot",
            "--cluster",
            "by-role",
            "--to",
            "s3://trail-logs/snaps",
            "--role-arn",
            &deployer,
        ],
        &[0],
    );
    r.expect(
        "aws-auth restore",
        &[
            "aws-auth",
            "restore",
            "--cluster",
            "by-user",
            "--from",
            "rebuild",
            "--admin-role",
            &deployer,
            "--verify-as",
            &deployer,
            "--yes",
            "--wait",
            "5",
        ],
        &[0],
    );
    r.expect_env(
        "aws-auth edit",
        &["aws-auth", "edit", "--cluster", "by-user"],
        &[("EDITOR", "true"), ("KUBE_EDITOR", "true")],
        &[0],
    );
    r.expect_env(
        "aws-auth edit",
        &[
            "aws-auth",
            "edit",
            "--cluster",
            "by-role",
            "--role-arn",
            &deployer,
        ],
        &[("EDITOR", "true"), ("KUBE_EDITOR", "true")],
        &[0],
    );

    // cleanup of each kind of change; someone gave the recreated principals policies meanwhile.
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:ListClusters","Resource":"*"}]}"#;
    let created = w.iam(
        "CreatePolicy",
        &[("PolicyName", "added-later"), ("PolicyDocument", doc)],
    );
    assert!(created.contains("added-later"), "{created}");
    let managed = arn("policy/added-later");
    w.iam(
        "PutUserPolicy",
        &[
            ("UserName", "ex-employee"),
            ("PolicyName", "inline"),
            ("PolicyDocument", doc),
        ],
    );
    w.iam(
        "AttachUserPolicy",
        &[("UserName", "ex-employee"), ("PolicyArn", &managed)],
    );
    w.iam(
        "AttachRolePolicy",
        &[("RoleName", "gone-deployer"), ("PolicyArn", &managed)],
    );
    for j in [&a_key, &a_trust, &a_role] {
        r.expect("cleanup", &["cleanup", "--journal", j, "--yes"], &[0]);
    }
    // The recreated user now carries policies the run never gave it: cleanup refuses to delete
    // it with them (review finding 6; this test used to expect them deleted), the operator
    // removes them by hand as the hint says, and cleanup then deletes the user.
    r.expect("cleanup", &["cleanup", "--journal", &a_user, "--yes"], &[1]);
    w.iam(
        "DeleteUserPolicy",
        &[("UserName", "ex-employee"), ("PolicyName", "inline")],
    );
    w.iam(
        "DetachUserPolicy",
        &[("UserName", "ex-employee"), ("PolicyArn", &managed)],
    );
    r.expect("cleanup", &["cleanup", "--journal", &a_user, "--yes"], &[0]);
    // Access entries and tags are a run's result: only a rollback reverses them.
    for j in [&g_entry, &g_switch, &rec_user, &rec_role] {
        r.expect(
            "cleanup",
            &["cleanup", "--rollback", "--journal", j, "--yes"],
            &[0],
        );
    }
    // aws-auth put back as it was, as the role that wrote it.
    r.expect(
        "cleanup",
        &[
            "cleanup",
            "--rollback",
            "--force",
            "--journal",
            &restore_role,
            "--role-arn",
            &deployer,
            "--yes",
        ],
        &[0],
    );

    // Access entries (issue 17): stale-bot is deleted and recreated, so its entry on `entries`
    // is stale: a live lint fails on it, show names the mapping it shadows, audit --entries and
    // diagnose find it, restore's prediction names the shadow, fix-entries makes it again and
    // a rollback deletes what it made.
    recreate_role(&w, "stale-bot", "/bots/");
    let stale_bot = arn("role/bots/stale-bot");
    r.expect(
        "aws-auth",
        &["aws-auth", "lint", "--cluster", "entries"],
        &[3],
    );
    r.expect(
        "aws-auth",
        &["aws-auth", "show", "--cluster", "entries"],
        &[0],
    );
    r.expect("audit", &["audit", "--entries"], &[0, 1, 3]);
    r.expect("diagnose", &["diagnose", "--cluster", "entries"], &[0]);
    let file = journal(&w, "entries-aws-auth.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/stale-bot\n      username: bot\n      groups:\n        - bots\n    - rolearn: arn:aws:iam::123456789012:role/eks-node-role\n      username: system:node:{{EC2PrivateDNSName}}\n      groups:\n        - system:bootstrappers\n        - system:nodes\n",
    )
    .unwrap();
    r.expect(
        "aws-auth restore",
        &[
            "aws-auth",
            "restore",
            "--cluster",
            "entries",
            "--from",
            &file,
            "--dry-run",
        ],
        &[0, 4],
    );
    let fix = journal(&w, "fix-entries");
    r.expect(
        "fix-entries",
        &[
            "fix-entries",
            "--cluster",
            "entries",
            "--allow-access-gain",
            &stale_bot,
            "--yes",
            "--journal-dir",
            &fix,
        ],
        &[0],
    );
    r.expect(
        "cleanup",
        &["cleanup", "--rollback", "--journal", &fix, "--yes"],
        &[0],
    );

    r.expect(
        "reveal-creator",
        &[
            "reveal-creator",
            "--cluster",
            "to-reveal",
            "--allow-auth-mode-change",
            "--yes",
            "--journal-dir",
            &journal(&w, "reveal"),
        ],
        &[0],
    );

    // The comparison, command by command.
    let mut problems = Vec::new();
    let commands: Vec<&str> = r.used.keys().copied().collect();
    for command in &commands {
        let used: BTreeSet<String> = r.used[command]
            .iter()
            .filter(|a| !EXEMPT.contains(&a.as_str()))
            .cloned()
            .collect();
        let listed = declared(&w, Some(command));
        for a in used.difference(&listed) {
            problems.push(format!("{command}: uses {a}, which its policy lacks"));
        }
        for a in listed.difference(&used) {
            if NOT_EXERCISED.iter().any(|(c, x, _)| c == command && x == a) {
                continue;
            }
            problems.push(format!("{command}: lists {a}, which no scenario used"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Every command with a policy was run, and the union is the policy of all.
    let out = w
        .product()
        .args(["policy", "--output", "json", "--explain"])
        .output()
        .unwrap();
    let explained: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut with_policy = BTreeSet::new();
    for item in explained.as_array().unwrap() {
        for c in item["commands"].as_array().unwrap() {
            with_policy.insert(c.as_str().unwrap().to_string());
        }
    }
    let ran: BTreeSet<String> = commands.iter().map(|c| c.to_string()).collect();
    assert_eq!(with_policy, ran);
    let all = declared(&w, None);
    let union: BTreeSet<String> = ran.iter().flat_map(|c| declared(&w, Some(c))).collect();
    assert_eq!(all, union);
}

#[test]
fn unknown_command_is_a_usage_error_naming_the_commands() {
    let out = common::product()
        .args(["policy", "completions"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("not a command that calls AWS"), "{err}");
    assert!(err.contains("assume-creator"), "{err}");
}

/// Deletes a role and creates it again with the same path and name (a new unique id), trusting
/// the account: what makes an access entry for it stale.
fn recreate_role(w: &World, name: &str, path: &str) {
    w.aws(&["iam", "delete-role", "--role-name", name]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    w.aws(&[
        "iam",
        "create-role",
        "--role-name",
        name,
        "--path",
        path,
        "--assume-role-policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
    ]);
}
