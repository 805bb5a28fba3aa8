//! Property tests of the aws-auth engine: nothing panics on any input, render is a fixed point,
//! salvage output always lints without errors and never holds an ARN the input did not.

use eks_breakglass::awsauth::{self, AwsAuthDocument, ClusterFacts, Section, Severity};
use proptest::prelude::*;

/// Text made of the characters YAML cares about.
fn yamlish() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r#"[ \t\n:\-\[\]{}"'#&*!|>?,%@`~a-zA-Z0-9/._=+]{0,240}"#)
        .expect("valid regex")
}

fn arn() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9_-]{0,12}".prop_map(|n| format!("arn:aws:iam::111122223333:role/{n}")),
        "[a-z]{1,6}/[A-Za-z][A-Za-z0-9_-]{0,8}"
            .prop_map(|n| format!("arn:aws:iam::111122223333:role/{n}")),
        "[a-z]{1,8}".prop_map(|n| format!("arn:aws:iam::111122223333:user/{n}")),
        "[A-Za-z]{1,8}".prop_map(|n| format!("arn:aws:sts::111122223333:assumed-role/{n}/s")),
        Just("arn:aws:iam::1111:role/short".to_string()),
    ]
}

fn scalar_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9:-]{0,10}",
        Just("yes".to_string()),
        Just("on".to_string()),
        Just("0755".to_string()),
        Just("123456789012".to_string()),
        Just("{{SessionName}}".to_string()),
        Just("\"{{SessionName}}\"".to_string()),
        Just("system:node:{{EC2PrivateDNSName}}".to_string()),
        Just("\"\"".to_string()),
        Just(".inf".to_string()),
        Just("~".to_string()),
    ]
}

#[derive(Debug, Clone)]
struct GenEntry {
    key: String,
    arn: String,
    username: Option<String>,
    groups: Vec<String>,
    groups_scalar: bool,
    indent_glitch: u8,
}

fn entry(section: Section) -> impl Strategy<Value = GenEntry> {
    let keys: Vec<&'static str> = match section {
        Section::MapRoles => vec!["rolearn", "RoleArn", "role_arn", "rolearn"],
        _ => vec!["userarn", "UserARN", "arn", "userarn"],
    };
    (
        proptest::sample::select(keys),
        arn(),
        proptest::option::of(scalar_value()),
        proptest::collection::vec(scalar_value(), 0..3),
        any::<bool>(),
        0u8..12,
    )
        .prop_map(
            |(key, arn, username, groups, groups_scalar, indent_glitch)| GenEntry {
                key: key.to_string(),
                arn,
                username,
                groups,
                groups_scalar,
                indent_glitch,
            },
        )
}

fn section_text(entries: &[GenEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        out.push_str(&format!("- {}: {}\n", e.key, e.arn));
        let pad = match e.indent_glitch {
            0 => " ",
            1 => "\t",
            2 => "   ",
            _ => "  ",
        };
        if let Some(u) = &e.username {
            out.push_str(&format!("{pad}username: {u}\n"));
        }
        if e.groups_scalar {
            if let Some(g) = e.groups.first() {
                out.push_str(&format!("  groups: {g}\n"));
            }
        } else if !e.groups.is_empty() {
            out.push_str("  groups:\n");
            for g in &e.groups {
                out.push_str(&format!("    - {g}\n"));
            }
        }
    }
    out
}

fn manifest(roles: &str, users: &str, accounts: &[String]) -> String {
    let block = |s: &str| -> String { s.lines().map(|l| format!("    {l}\n")).collect::<String>() };
    let mut out = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n  labels:\n    team: platform\ndata:\n",
    );
    out.push_str("  mapRoles: |\n");
    out.push_str(&block(roles));
    out.push_str("  mapUsers: |\n");
    out.push_str(&block(users));
    if !accounts.is_empty() {
        out.push_str("  mapAccounts: |\n");
        for a in accounts {
            out.push_str(&format!("    - {a}\n"));
        }
    }
    out.push_str("  other: keep-me\n");
    out
}

fn generated() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(entry(Section::MapRoles), 0..6),
        proptest::collection::vec(entry(Section::MapUsers), 0..4),
        proptest::collection::vec(
            prop_oneof![
                Just("\"111122223333\"".to_string()),
                Just("444455556666".to_string()),
                Just("\"12\"".to_string()),
            ],
            0..3,
        ),
    )
        .prop_map(|(r, u, a)| manifest(&section_text(&r), &section_text(&u), &a))
}

fn render_once(doc: &AwsAuthDocument) -> String {
    awsauth::render(doc, &awsauth::load(doc), Default::default())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(doc) = awsauth::read_document("fuzz", &bytes) {
            let _ = awsauth::analyze(&doc, &ClusterFacts::default());
            let _ = awsauth::salvage(&doc, true);
            let _ = render_once(&doc);
        }
    }

    #[test]
    fn arbitrary_section_text_never_panics(text in yamlish()) {
        let doc = AwsAuthDocument::from_data(
            "fuzz",
            [("mapRoles", text.clone()), ("mapUsers", text.clone()), ("mapAccounts", text.clone())],
        );
        let a = awsauth::analyze(&doc, &ClusterFacts::default());
        let _ = awsauth::salvage(&doc, false);
        let _ = awsauth::render(&doc, &a.loads, Default::default());
        // The same text embedded in a manifest file.
        let m = manifest(&text, "", &[]);
        if let Ok(doc) = awsauth::read_document("fuzz", m.as_bytes()) {
            let _ = awsauth::analyze(&doc, &ClusterFacts::default());
        }
    }

    #[test]
    fn render_is_a_fixed_point(m in generated()) {
        let doc = awsauth::read_document("gen", m.as_bytes()).expect("generated manifests read");
        let once = render_once(&doc);
        let doc2 = awsauth::read_document("gen", once.as_bytes()).expect("render output reads");
        let twice = render_once(&doc2);
        prop_assert_eq!(&once, &twice);
        prop_assert!(once.contains("team: platform"));
        prop_assert!(once.contains("other: keep-me"));
    }

    #[test]
    fn salvage_lints_clean_and_invents_nothing(m in generated()) {
        let doc = awsauth::read_document("gen", m.as_bytes()).expect("generated manifests read");
        let s = awsauth::salvage(&doc, false);
        let out = awsauth::read_document("salvaged", s.manifest.as_bytes()).expect("salvage output reads");
        let a = awsauth::analyze(&out, &ClusterFacts::default());
        let errors: Vec<_> = a.findings.iter().filter(|f| f.severity == Severity::Error).collect();
        prop_assert!(errors.is_empty(), "errors {:?} in\n{}\nfrom\n{}", errors, s.manifest, m);
        let input = m.to_lowercase();
        for r in &a.effective.roles {
            // A path or session may have been removed; the account and role name must be there.
            let name = r.arn.rsplit('/').next().unwrap_or_default().to_lowercase();
            prop_assert!(input.contains(&name), "invented role {}", r.arn);
        }
        for u in &a.effective.users {
            let name = u.arn.rsplit('/').next().unwrap_or_default().to_lowercase();
            prop_assert!(input.contains(&name), "invented user {}", u.arn);
        }
        for acc in &a.effective.accounts {
            prop_assert!(input.contains(&acc.account), "invented account {}", acc.account);
        }
        let recovered = s.report.recovered.len();
        let in_output = a.effective.roles.len() + a.effective.users.len() + a.effective.accounts.len();
        prop_assert_eq!(recovered, in_output);
    }
}
