//! Review (session 3, issue 17 item 1): the pure translation of `migrate` read against how EKS
//! and the authenticator read aws-auth. Each test here failed on the reviewed code.

use eks_breakglass::awsauth::{AwsAuthDocument, ClusterFacts, EffectiveMapping, analyze};
use eks_breakglass::recovery::migrate::{
    Check, LiveEntry, MigrateFacts, Outcome, Resolved, admin_policy, check_entry, plan, translate,
};
use eks_breakglass::recovery::plan::Action;

const A: &str = "111122223333";

fn arn(r: &str) -> String {
    format!("arn:aws:iam::{A}:{r}")
}

fn mapping(data: &[(&str, &str)]) -> EffectiveMapping {
    let doc = AwsAuthDocument::from_data(
        "test",
        data.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    );
    analyze(&doc, &ClusterFacts::default()).effective
}

/// A path ARN in aws-auth never matches (the authenticator strips the caller's path), the same
/// role written without its path does. Both resolve through IAM to the one role with its path.
/// EKS reads only the path-less line: the translation must make ONE entry, from that line —
/// not let the dead line (here: system:masters) become the entry the run creates first, while
/// the live line (viewers) hits 409 and is "adopted".
#[test]
fn review_dead_path_line_beside_live_line_does_not_become_the_entry() {
    let sso_real = arn("role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123");
    let with_path = sso_real.clone();
    let without = arn("role/AWSReservedSSO_Dev_0123");
    let roles = format!(
        "- rolearn: {with_path}\n  username: dev:{{{{SessionName}}}}\n  groups: [system:masters]\n\
         - rolearn: {without}\n  username: dev:{{{{SessionName}}}}\n  groups: [viewers]\n"
    );
    let m = mapping(&[("mapRoles", &roles)]);
    let mut resolved = Resolved::new();
    resolved.insert(with_path.to_ascii_lowercase(), Some(sso_real.clone()));
    resolved.insert(without.to_ascii_lowercase(), Some(sso_real.clone()));
    // The operator reads the refusal ("aws-auth never matched it ... new access") and consents,
    // as the refusal tells them to.
    let allow = vec![sso_real.clone()];
    let t = translate(&MigrateFacts {
        partition: "aws",
        mapping: &m,
        resolved: &resolved,
        node_roles: &[],
        existing: None,
        allow_access_gain: &allow,
    });
    let p = plan(&t, "prod", "eu-west-1", "CONFIG_MAP");
    let creates: Vec<&Action> = p
        .steps
        .iter()
        .map(|s| &s.action)
        .filter(|a| matches!(a, Action::CreateTypedAccessEntry { principal_arn, .. } if *principal_arn == sso_real))
        .collect();
    let admin = p.steps.iter().any(|s| {
        matches!(&s.action, Action::AssociateAccessPolicy { principal_arn, policy_arn, .. }
            if *principal_arn == sso_real && *policy_arn == admin_policy("aws"))
    });
    assert!(
        creates.len() == 1 && !admin,
        "EKS gives {sso_real} only [viewers] today (the path line never matches); the plan creates {} entries for it and associates cluster admin: {admin}\n{}",
        creates.len(),
        t.render()
    );
}

/// An existing entry that gives MORE than aws-auth (another group, cluster admin) is not "the
/// same": verification must not tell the operator it matches what aws-auth gave.
#[test]
fn review_check_entry_reports_an_entry_that_gives_more_than_aws_auth() {
    let role = arn("role/deployer");
    let m = mapping(&[(
        "mapRoles",
        &format!("- rolearn: {role}\n  username: deployer\n  groups: [viewers]\n"),
    )]);
    let mut resolved = Resolved::new();
    resolved.insert(role.to_ascii_lowercase(), Some(role.clone()));
    let live = vec![LiveEntry {
        principal_arn: role.clone(),
        entry_type: "STANDARD".into(),
        username: Some("deployer".into()),
        groups: vec!["viewers".into(), "platform-admins".into()],
        policies: vec![admin_policy("aws")],
    }];
    let t = translate(&MigrateFacts {
        partition: "aws",
        mapping: &m,
        resolved: &resolved,
        node_roles: &[],
        existing: Some(&live),
        allow_access_gain: &[],
    });
    let r = &t.rows[0];
    let Outcome::Adopt {
        differences,
        wanted,
        ..
    } = &r.outcome
    else {
        panic!("expected adoption: {r:?}");
    };
    let check = check_entry(wanted, Some(&live[0]));
    assert!(
        !differences.is_empty() && check != Check::Same,
        "the live entry gives platform-admins and AmazonEKSClusterAdminPolicy that aws-auth never gave, yet differences = {differences:?} and check = {}",
        check.describe()
    );
}

/// The table (what `--dry-run` and stage one print) must show how an adopted entry differs from
/// aws-auth; it shows the wanted entry as if it were the live one.
#[test]
fn review_table_shows_how_an_adopted_entry_differs() {
    let role = arn("role/deployer");
    let m = mapping(&[(
        "mapRoles",
        &format!("- rolearn: {role}\n  username: deployer\n  groups: [viewers, editors]\n"),
    )]);
    let mut resolved = Resolved::new();
    resolved.insert(role.to_ascii_lowercase(), Some(role.clone()));
    let live = vec![LiveEntry {
        principal_arn: role.clone(),
        entry_type: "STANDARD".into(),
        username: Some("deployer".into()),
        groups: vec!["viewers".into()],
        policies: vec![],
    }];
    let t = translate(&MigrateFacts {
        partition: "aws",
        mapping: &m,
        resolved: &resolved,
        node_roles: &[],
        existing: Some(&live),
        allow_access_gain: &[],
    });
    let Outcome::Adopt { differences, .. } = &t.rows[0].outcome else {
        panic!("expected adoption: {:?}", t.rows[0]);
    };
    assert!(!differences.is_empty(), "the entry lacks editors");
    let table = t.render();
    assert!(
        table.contains("editors") && differences.iter().all(|d| table.contains(d.as_str())),
        "the table hides the adopted entry's differences {differences:?}:\n{table}"
    );
    // And the line for the adopted entry must not present aws-auth's groups as the entry's.
    let entry_line = table
        .lines()
        .find(|l| l.trim_start().starts_with("entry:"))
        .unwrap_or_default();
    assert!(
        !entry_line.contains("editors"),
        "the 'entry:' line claims the adopted entry has editors, which it has not: {entry_line}"
    );
}

/// A section EKS loses (mapUsers that is not YAML) makes no rows at all: the table says
/// "0 cannot be translated" and never names mapUsers. The translation must say the section was
/// lost (its users get in neither today nor after), not drop it silently.
#[test]
fn review_lost_section_is_named_in_the_table() {
    let role = arn("role/deployer");
    let m = mapping(&[
        (
            "mapRoles",
            &format!("- rolearn: {role}\n  username: deployer\n  groups: [viewers]\n"),
        ),
        (
            "mapUsers",
            "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups: [system:masters\n",
        ),
    ]);
    assert_eq!(
        m.sections.map_users,
        eks_breakglass::awsauth::SectionState::Lost,
        "fixture: mapUsers must be lost"
    );
    let mut resolved = Resolved::new();
    resolved.insert(role.to_ascii_lowercase(), Some(role.clone()));
    let t = translate(&MigrateFacts {
        partition: "aws",
        mapping: &m,
        resolved: &resolved,
        node_roles: &[],
        existing: None,
        allow_access_gain: &[],
    });
    let table = t.render();
    assert!(
        table.contains("mapUsers"),
        "mapUsers is lost (EKS reads none of it) and the table does not say so:\n{table}"
    );
    let p = plan(&t, "prod", "eu-west-1", "CONFIG_MAP");
    assert!(
        p.notes.iter().any(|n| n.contains("mapUsers")),
        "the plan's notes do not name the lost mapUsers section: {:?}",
        p.notes
    );
}

/// What an entry cannot keep (a group on a node role, a username EKS refuses) is lost at the
/// switch to API just as surely as an untranslated line. Stage two's gate calls the entry "the
/// same" and the API-switch plan names only untranslated lines: the operator consents to a
/// switch whose plan does not say that the node role loses `monitoring` and that ops loses its
/// username `system:ops` (its RBAC bindings).
#[test]
fn review_switch_plan_names_what_translated_identities_lose() {
    let node = arn("role/eks-node-role");
    let ops = arn("role/ops");
    let roles = format!(
        "- rolearn: {node}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes, monitoring]\n\
         - rolearn: {ops}\n  username: system:ops\n  groups: [ops]\n"
    );
    let m = mapping(&[("mapRoles", &roles)]);
    let mut resolved = Resolved::new();
    resolved.insert(node.to_ascii_lowercase(), Some(node.clone()));
    resolved.insert(ops.to_ascii_lowercase(), Some(ops.clone()));
    // As stage one left them: EC2_LINUX for the node role, STANDARD with [ops] for ops.
    let live = vec![
        LiveEntry {
            principal_arn: node.clone(),
            entry_type: "EC2_LINUX".into(),
            username: Some("system:node:{{EC2PrivateDNSName}}".into()),
            groups: vec!["system:nodes".into()],
            policies: vec![],
        },
        LiveEntry {
            principal_arn: ops.clone(),
            entry_type: "STANDARD".into(),
            username: Some(format!(
                "arn:aws:sts::{A}:assumed-role/ops/{{{{SessionName}}}}"
            )),
            groups: vec!["ops".into()],
            policies: vec![],
        },
    ];
    let t = translate(&MigrateFacts {
        partition: "aws",
        mapping: &m,
        resolved: &resolved,
        node_roles: &[],
        existing: Some(&live),
        allow_access_gain: &[],
    });
    let p = eks_breakglass::recovery::migrate::switch_plan(&t, "prod", "eu-west-1");
    let notes = p.notes.join("\n");
    assert!(
        notes.contains("monitoring") && notes.contains("system:ops"),
        "the API-switch plan does not name what the node role (group monitoring) and ops (username system:ops) lose:\n{notes}\n\ntable:\n{}",
        t.render()
    );
}
