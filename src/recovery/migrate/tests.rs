use super::*;
use crate::awsauth::{AwsAuthDocument, ClusterFacts, analyze};
use crate::recovery::plan::Action;

const A: &str = "111122223333";

fn arn(r: &str) -> String {
    format!("arn:aws:iam::{A}:{r}")
}

fn mapping(roles: &str, users: &str, accounts: &str) -> EffectiveMapping {
    let mut data = Vec::new();
    if !roles.is_empty() {
        data.push(("mapRoles", roles.to_string()));
    }
    if !users.is_empty() {
        data.push(("mapUsers", users.to_string()));
    }
    if !accounts.is_empty() {
        data.push(("mapAccounts", accounts.to_string()));
    }
    let doc = AwsAuthDocument::from_data("test", data);
    analyze(&doc, &ClusterFacts::default()).effective
}

/// Every ARN resolves to itself, except the SSO role (path-less in aws-auth, with its path in
/// IAM) and `gone`, which IAM does not know.
fn resolved(m: &EffectiveMapping) -> Resolved {
    let mut r = Resolved::new();
    for a in m
        .roles
        .iter()
        .map(|r| &r.arn)
        .chain(m.users.iter().map(|u| &u.arn))
    {
        let real = if a.ends_with("AWSReservedSSO_Dev_0123456789abcdef") {
            Some(arn(
                "role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123456789abcdef",
            ))
        } else if a.ends_with("/gone") {
            None
        } else {
            Some(a.clone())
        };
        r.insert(a.to_ascii_lowercase(), real);
    }
    r
}

fn translate_with(
    m: &EffectiveMapping,
    nodes: &[NodeRoleFact],
    existing: Option<&[LiveEntry]>,
    allow: &[String],
) -> Translation {
    let res = resolved(m);
    translate(&MigrateFacts {
        partition: "aws",
        mapping: m,
        resolved: &res,
        node_roles: nodes,
        existing,
        allow_access_gain: allow,
    })
}

fn row<'a>(t: &'a Translation, identity_end: &str) -> &'a Row {
    t.rows
        .iter()
        .find(|r| r.identity.ends_with(identity_end))
        .unwrap_or_else(|| panic!("no row for {identity_end}: {t:#?}"))
}

fn created(r: &Row) -> &EntrySpec {
    match &r.outcome {
        Outcome::Create { entry } | Outcome::EksManaged { entry, .. } => entry,
        other => panic!("{} is not created: {other:?}", r.identity),
    }
}

#[test]
fn masters_becomes_the_admin_policy_and_reserved_groups_are_named_as_lost() {
    let m = mapping(
        &format!(
            "- rolearn: {}\n  username: admin\n  groups: [system:masters, viewers, eks:odd]\n",
            arn("role/admin")
        ),
        "",
        "",
    );
    let t = translate_with(&m, &[], None, &[]);
    let e = created(row(&t, "role/admin"));
    assert_eq!(e.entry_type, EntryType::Standard);
    assert_eq!(
        e.policies,
        vec!["arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".to_string()]
    );
    assert_eq!(
        e.groups,
        vec!["viewers".to_string()],
        "no system: or eks: group on an entry"
    );
    assert_eq!(e.username.as_deref(), Some("admin"));
    let notes = row(&t, "role/admin").notes.join("\n");
    let losses = row(&t, "role/admin").losses.join("\n");
    assert!(losses.contains("eks:odd cannot be kept"), "{losses}");
    assert!(notes.contains("AmazonEKSClusterAdminPolicy"), "{notes}");
}

#[test]
fn an_identity_center_role_gets_its_full_aws_reserved_path() {
    let m = mapping(
        &format!(
            "- rolearn: {}\n  username: \"dev:{{{{SessionName}}}}\"\n  groups: [developers]\n",
            arn("role/AWSReservedSSO_Dev_0123456789abcdef")
        ),
        "",
        "",
    );
    let t = translate_with(&m, &[], None, &[]);
    let r = row(&t, "AWSReservedSSO_Dev_0123456789abcdef");
    let e = created(r);
    assert_eq!(
        e.principal_arn,
        arn("role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123456789abcdef")
    );
    assert_eq!(
        e.username.as_deref(),
        Some("dev:{{SessionName}}"),
        "templated username kept"
    );
    assert!(
        r.notes.iter().any(|n| n.contains("IAM Identity Center")),
        "{r:?}"
    );
}

#[test]
fn templated_usernames_are_kept_only_where_entries_allow_them() {
    let m = mapping(
        &format!(
            "- rolearn: {}\n  username: \"alice{{{{SessionName}}}}\"\n  groups: [g]\n\
             - rolearn: {}\n  username: \"acct-{{{{AccountID}}}}\"\n  groups: [g]\n\
             - rolearn: {}\n  username: \"system:ci\"\n  groups: [g]\n\
             - rolearn: {}\n  username: \"ops:{{{{SessionNameRaw}}}}\"\n  groups: [g]\n",
            arn("role/nocolon"),
            arn("role/account"),
            arn("role/reserved"),
            arn("role/raw")
        ),
        "",
        "",
    );
    let t = translate_with(&m, &[], None, &[]);
    for (who, why) in [
        ("role/nocolon", "colon before {{SessionName}}"),
        ("role/account", "{{AccountID}} is not a template"),
        ("role/reserved", "can't start with system:"),
    ] {
        let r = row(&t, who);
        assert_eq!(created(r).username, None, "{who}: EKS's default username");
        let notes = r.losses.join("\n");
        assert!(notes.contains(why), "{who}: {notes}");
        assert!(
            notes.contains("default username arn:aws:sts::"),
            "{who}: {notes}"
        );
    }
    assert_eq!(
        created(row(&t, "role/raw")).username.as_deref(),
        Some("ops:{{SessionNameRaw}}")
    );
}

#[test]
fn map_accounts_is_explained_not_translated() {
    let m = mapping("", "", "- \"444455556666\"\n");
    let t = translate_with(&m, &[], None, &[]);
    let r = row(&t, "444455556666");
    assert_eq!(r.outcome, Outcome::NotTranslated);
    let why = r.reason.as_deref().unwrap_or_default();
    assert!(why.contains("account-wide"), "{why}");
    assert!(why.contains("refused after the switch to API"), "{why}");
    assert!(t.render().contains("CANNOT TRANSLATE"), "{}", t.render());
}

#[test]
fn node_roles_become_typed_entries_and_eks_managed_ones_are_marked() {
    let m = mapping(
        &format!(
            "- rolearn: {}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes]\n\
             - rolearn: {}\n  username: system:node:{{{{SessionName}}}}\n  groups: [system:bootstrappers, system:nodes, system:node-proxier]\n\
             - rolearn: {}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes]\n\
             - rolearn: {}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes, eks:kube-proxy-windows]\n",
            arn("role/mng"),
            arn("role/fargate"),
            arn("role/selfmanaged"),
            arn("role/windows"),
        ),
        "",
        "",
    );
    let nodes = vec![
        NodeRoleFact {
            arn: arn("role/mng"),
            kind: NodeRoleKind::Ec2Linux,
            source: "node group general".into(),
        },
        NodeRoleFact {
            arn: arn("role/fargate"),
            kind: NodeRoleKind::Fargate,
            source: "Fargate profile fp".into(),
        },
    ];
    let t = translate_with(&m, &nodes, None, &[]);
    assert!(matches!(
        &row(&t, "role/mng").outcome,
        Outcome::EksManaged { entry, .. } if entry.entry_type == EntryType::Ec2Linux
    ));
    assert!(matches!(
        &row(&t, "role/fargate").outcome,
        Outcome::EksManaged { entry, .. } if entry.entry_type == EntryType::FargateLinux
    ));
    let s = created(row(&t, "role/selfmanaged"));
    assert_eq!(s.entry_type, EntryType::Ec2Linux);
    assert!(
        s.groups.is_empty() && s.username.is_none(),
        "node entries take neither"
    );
    let w = row(&t, "role/windows");
    assert_eq!(created(w).entry_type, EntryType::Ec2Windows);
    assert!(
        w.losses
            .iter()
            .any(|n| n.contains("eks:kube-proxy-windows")),
        "{w:?}"
    );
}

#[test]
fn a_line_that_never_matched_is_an_access_gain_needing_consent() {
    let pathed = arn("role/team/ops");
    let m = mapping(
        &format!("- rolearn: {pathed}\n  username: ops\n  groups: [system:masters]\n"),
        "",
        "",
    );
    let t = translate_with(&m, &[], None, &[]);
    let r = row(&t, "role/team/ops");
    assert!(
        matches!(
            r.outcome,
            Outcome::AccessGain {
                consented: false,
                ..
            }
        ),
        "{r:?}"
    );
    assert!(
        r.reason
            .as_deref()
            .unwrap_or_default()
            .contains("never matched")
    );
    assert_eq!(t.unconsented_gains().len(), 1);
    let p = plan(&t, "prod", "us-east-1", "API_AND_CONFIG_MAP");
    assert!(
        p.steps.is_empty(),
        "nothing made without consent: {}",
        p.render()
    );

    let t = translate_with(&m, &[], None, std::slice::from_ref(&pathed));
    assert!(t.unconsented_gains().is_empty());
    let p = plan(&t, "prod", "us-east-1", "API_AND_CONFIG_MAP");
    assert_eq!(p.steps.len(), 2, "{}", p.render());
    assert!(p.steps.iter().all(|s| s.consent.as_deref()
        == Some(&format!("--allow-access-gain {pathed}") as &str)));
}

#[test]
fn existing_entries_are_adopted_with_their_differences() {
    let m = mapping(
        &format!(
            "- rolearn: {}\n  username: creator\n  groups: [system:masters, ops]\n",
            arn("role/creator")
        ),
        "",
        "",
    );
    let live = vec![
        LiveEntry {
            principal_arn: arn("role/creator"),
            entry_type: "STANDARD".into(),
            username: Some(default_username(&arn("role/creator"))),
            groups: vec![],
            policies: vec![admin_policy("aws")],
        },
        LiveEntry {
            principal_arn: arn("role/other"),
            entry_type: "EC2_LINUX".into(),
            username: Some("system:node:{{EC2PrivateDNSName}}".into()),
            groups: vec!["system:nodes".into()],
            policies: vec![],
        },
    ];
    let t = translate_with(&m, &[], Some(&live), &[]);
    let r = row(&t, "role/creator");
    let Outcome::Adopt { differences, .. } = &r.outcome else {
        panic!("{r:?}")
    };
    assert!(
        differences.iter().any(|d| d == "no group ops"),
        "{differences:?}"
    );
    assert!(
        differences.iter().any(|d| d.starts_with("username ")),
        "{differences:?}"
    );
    assert_eq!(
        t.other_entries.len(),
        1,
        "the node entry no line maps is listed"
    );
    let p = plan(&t, "prod", "us-east-1", "API_AND_CONFIG_MAP");
    assert!(p.steps.is_empty(), "an existing entry is never replaced");
}

#[test]
fn missing_principals_shadowed_lines_and_sessions_are_not_translated() {
    let m = mapping(
        &format!(
            "- rolearn: {}\n  username: a\n  groups: [g]\n\
             - rolearn: {}\n  username: first\n  groups: [g]\n\
             - rolearn: {}\n  username: second\n  groups: [g]\n\
             - rolearn: arn:aws:sts::{A}:assumed-role/x/y\n  username: s\n  groups: [g]\n",
            arn("role/gone"),
            arn("role/dup"),
            arn("role/dup"),
        ),
        "",
        "",
    );
    let t = translate_with(&m, &[], None, &[]);
    assert_eq!(row(&t, "role/gone").outcome, Outcome::NotTranslated);
    let dups: Vec<&Row> = t
        .rows
        .iter()
        .filter(|r| r.identity.ends_with("role/dup"))
        .collect();
    assert_eq!(dups[0].outcome, Outcome::Ignored);
    assert_eq!(created(dups[1]).username.as_deref(), Some("second"));
    let s = row(&t, "assumed-role/x/y");
    assert_eq!(s.outcome, Outcome::NotTranslated);
    assert!(
        s.reason
            .as_deref()
            .unwrap_or_default()
            .contains("cannot name a session")
    );
}

#[test]
fn the_plan_switches_mode_with_consent_naming_it_and_never_writes_aws_auth() {
    let m = mapping(
        &format!(
            "- rolearn: {}\n  username: a\n  groups: [system:masters]\n",
            arn("role/a")
        ),
        &format!(
            "- userarn: {}\n  username: bob\n  groups: [dev]\n",
            arn("user/bob")
        ),
        "",
    );
    let t = translate_with(&m, &[], None, &[]);
    let p = plan(&t, "prod", "us-east-1", "CONFIG_MAP");
    assert!(
        matches!(&p.steps[0].action, Action::SwitchAuthMode { to, .. } if to == "API_AND_CONFIG_MAP")
    );
    assert_eq!(
        p.steps[0].consent.as_deref(),
        Some("--allow-auth-mode-change API_AND_CONFIG_MAP")
    );
    assert!(!p.steps[0].undo.is_reversible());
    assert!(
        p.steps
            .iter()
            .all(|s| !matches!(s.action, Action::WriteConfigMap { .. }))
    );
    let kinds: Vec<String> = p.steps.iter().map(|s| s.action.call().action).collect();
    assert_eq!(
        kinds,
        vec![
            "eks:UpdateClusterConfig",
            "eks:CreateAccessEntry",
            "eks:AssociateAccessPolicy",
            "eks:CreateAccessEntry"
        ]
    );
    assert!(p.steps[1..].iter().all(|s| s.undo.is_reversible()));
    let sw = switch_plan(&t, "prod", "us-east-1");
    assert_eq!(sw.consents(), vec!["--allow-auth-mode-change API"]);
}

#[test]
fn checks_and_username_templates() {
    let want = EntrySpec {
        principal_arn: arn("role/a"),
        entry_type: EntryType::Standard,
        username: None,
        groups: vec!["dev".into()],
        policies: vec![admin_policy("aws")],
    };
    assert_eq!(check_entry(&want, None), Check::Missing);
    let mut live = LiveEntry {
        principal_arn: arn("role/a"),
        entry_type: "STANDARD".into(),
        username: Some(default_username(&arn("role/a"))),
        groups: vec!["dev".into()],
        policies: vec![admin_policy("aws")],
    };
    assert_eq!(check_entry(&want, Some(&live)), Check::Same);
    live.username = Some("someone".into());
    assert!(matches!(
        check_entry(&want, Some(&live)),
        Check::UsernameDiffers { .. }
    ));
    live.policies.clear();
    assert!(check_entry(&want, Some(&live)).loses_access());

    assert_eq!(
        default_username(&arn("role/aws-reserved/sso.amazonaws.com/X")),
        format!("arn:aws:sts::{A}:assumed-role/X/{{{{SessionName}}}}")
    );
    assert_eq!(default_username(&arn("user/p/bob")), arn("user/p/bob"));
    assert!(username_fits("dev:{{SessionName}}", "dev:alice"));
    assert!(!username_fits("dev:{{SessionName}}", "ops:alice"));
    assert!(username_fits("plain", "plain"));
    assert!(!username_fits("plain", "plainer"));
    assert!(username_fits(
        &default_username(&arn("role/r")),
        &format!("arn:aws:sts::{A}:assumed-role/r/session-1")
    ));
}
