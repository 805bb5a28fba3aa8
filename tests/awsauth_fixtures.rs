//! The aws-auth fixture corpus: every `tests/fixtures/aws-auth/<case>.<ext>` input has a
//! hand-checked `<case>.expected.json` with the effective mapping the authenticator would load
//! and the findings (code@line) lint must report — or the input error it must be refused with.
//! Each case's salvage output must also lint without errors and only hold input ARNs.
//!
//! Compact notation of the expectations (easy to check by eye against the input file):
//! - role/user: `"LINE ARN | USERNAME | GROUP,GROUP"` then ` | never:REASON`,
//!   ` | shadowed:LINE`, ` | nondeterministic:LINE,LINE` for each mark (sso entries show
//!   `sso:KEY` as ARN);
//! - account: `"LINE ACCOUNT"`;
//! - sections: `"mapRoles=STATE mapUsers=STATE mapAccounts=STATE"`;
//! - findings: sorted `"CODE@LINE"`.

use eks_breakglass::awsauth::{self, ClusterFacts, EffectiveMapping, Mark, NodeRoleFact, Severity};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    description: String,
    #[serde(default)]
    facts: Vec<NodeRoleFact>,
    #[serde(default)]
    input_error: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    sections: Option<String>,
    #[serde(default)]
    findings: Vec<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-auth")
}

fn marks(m: &[Mark]) -> String {
    m.iter()
        .map(|m| match m {
            Mark::NeverMatches { reason } => format!(
                " | never:{}",
                serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            ),
            Mark::ShadowedBy { line } => format!(" | shadowed:{line}"),
            Mark::Nondeterministic { lines } => format!(
                " | nondeterministic:{}",
                lines
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        })
        .collect()
}

fn project(m: &EffectiveMapping) -> (Vec<String>, Vec<String>, Vec<String>, String) {
    let roles = m
        .roles
        .iter()
        .map(|r| {
            let arn = if r.arn.is_empty() {
                format!("sso:{}", r.key)
            } else {
                r.arn.clone()
            };
            format!(
                "{} {arn} | {} | {}{}",
                r.line,
                r.username,
                r.groups.join(","),
                marks(&r.marks)
            )
        })
        .collect();
    let users = m
        .users
        .iter()
        .map(|u| {
            format!(
                "{} {} | {} | {}{}",
                u.line,
                u.arn,
                u.username,
                u.groups.join(","),
                marks(&u.marks)
            )
        })
        .collect();
    let accounts = m
        .accounts
        .iter()
        .map(|a| format!("{} {}", a.line, a.account))
        .collect();
    let state = |s| {
        serde_json::to_value(s)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let sections = format!(
        "mapRoles={} mapUsers={} mapAccounts={}",
        state(m.sections.map_roles),
        state(m.sections.map_users),
        state(m.sections.map_accounts)
    );
    (roles, users, accounts, sections)
}

fn cases() -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir()).expect("fixture dir");
    for e in entries {
        let path = e.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.ends_with(".expected.json") {
            let case = name.trim_end_matches(".expected.json").to_string();
            let input = std::fs::read_dir(dir())
                .expect("fixture dir")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    n.starts_with(&format!("{case}.")) && !n.ends_with(".expected.json")
                })
                .unwrap_or_else(|| panic!("no input for case {case}"));
            out.push((case, input, path));
        }
    }
    out.sort();
    out
}

#[test]
fn corpus_has_at_least_forty_cases() {
    let n = cases().len();
    assert!(n >= 40, "only {n} fixture cases");
}

#[test]
fn every_fixture_matches_its_expectation() {
    let mut failures = Vec::new();
    for (case, input, expected_path) in cases() {
        let expected: Expected =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).expect("read expected"))
                .unwrap_or_else(|e| panic!("{case}: bad expected file: {e}"));
        assert!(
            !expected.description.is_empty(),
            "{case}: describe the case"
        );
        let bytes = std::fs::read(&input).expect("read input");
        let doc = match awsauth::read_document(&case, &bytes) {
            Ok(doc) => doc,
            Err(e) => {
                let kind = format!("{e:?}");
                let kind = kind
                    .split([' ', '{', '('])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if expected.input_error.as_deref() != Some(kind.as_str()) {
                    failures.push(format!(
                        "{case}: input error {kind} ({e}), expected {:?}",
                        expected.input_error
                    ));
                }
                continue;
            }
        };
        if let Some(err) = &expected.input_error {
            failures.push(format!(
                "{case}: expected input error {err}, but it was read"
            ));
            continue;
        }
        let facts = ClusterFacts {
            node_roles: expected.facts.clone(),
        };
        let analysis = awsauth::analyze(&doc, &facts);
        let (roles, users, accounts, sections) = project(&analysis.effective);
        let mut findings: Vec<String> = analysis
            .findings
            .iter()
            .map(|f| format!("{}@{}", f.code, f.line))
            .collect();
        findings.sort();
        let mut want_findings = expected.findings.clone();
        want_findings.sort();
        let checks = [
            (
                "roles",
                format!("{roles:#?}"),
                format!("{:#?}", expected.roles),
            ),
            (
                "users",
                format!("{users:#?}"),
                format!("{:#?}", expected.users),
            ),
            (
                "accounts",
                format!("{accounts:#?}"),
                format!("{:#?}", expected.accounts),
            ),
            (
                "sections",
                sections.clone(),
                expected.sections.clone().unwrap_or_default(),
            ),
            (
                "findings",
                format!("{findings:#?}"),
                format!("{want_findings:#?}"),
            ),
        ];
        for (what, got, want) in checks {
            if got != want {
                failures.push(format!("{case}: {what}\n  got:  {got}\n  want: {want}"));
            }
        }
        // Salvage: lints clean, invents nothing.
        let salvaged = awsauth::salvage(&doc, false);
        let out =
            awsauth::read_document("salvaged", salvaged.manifest.as_bytes()).unwrap_or_else(|e| {
                panic!(
                    "{case}: salvage output unreadable: {e}\n{}",
                    salvaged.manifest
                )
            });
        let relint = awsauth::analyze(&out, &ClusterFacts::default());
        let errors: Vec<_> = relint
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        if !errors.is_empty() {
            failures.push(format!(
                "{case}: salvage output has lint errors {errors:?}\n{}",
                salvaged.manifest
            ));
        }
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for r in &relint.effective.roles {
            let name = r.arn.rsplit('/').next().unwrap_or_default().to_lowercase();
            if !name.is_empty() && !text.contains(&name) {
                failures.push(format!("{case}: salvage invented role {}", r.arn));
            }
        }
        for u in &relint.effective.users {
            if !text.contains(&u.arn.to_lowercase()) {
                failures.push(format!("{case}: salvage invented user {}", u.arn));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn render_of_every_fixture_is_stable() {
    for (case, input, _) in cases() {
        let bytes = std::fs::read(&input).expect("read input");
        let Ok(doc) = awsauth::read_document(&case, &bytes) else {
            continue;
        };
        let once = awsauth::render(&doc, &awsauth::load(&doc), Default::default());
        let doc2 = awsauth::read_document(&case, once.as_bytes())
            .unwrap_or_else(|e| panic!("{case}: render output unreadable: {e}\n{once}"));
        let twice = awsauth::render(&doc2, &awsauth::load(&doc2), Default::default());
        assert_eq!(once, twice, "{case}: render is not stable");
        let a = awsauth::effective_from_data(doc.data.iter().filter_map(|d| {
            doc.data_text(&d.key)
                .map(|t| (d.key.clone(), t.to_string()))
        }));
        let b = awsauth::effective_from_data(doc2.data.iter().filter_map(|d| {
            doc2.data_text(&d.key)
                .map(|t| (d.key.clone(), t.to_string()))
        }));
        let strip = |m: &EffectiveMapping| {
            let (r, u, a, s) = project(m);
            let cut = |v: Vec<String>| {
                v.into_iter()
                    .map(|x| {
                        x.split_once(' ')
                            .map(|(_, rest)| rest.to_string())
                            .unwrap_or(x)
                    })
                    .map(|x| {
                        x.split(" | shadowed:")
                            .next()
                            .unwrap_or_default()
                            .to_string()
                    })
                    .map(|x| {
                        x.split(" | nondeterministic:")
                            .next()
                            .unwrap_or_default()
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            };
            (cut(r), cut(u), cut(a), s)
        };
        let (ra, ua, aa, sa) = strip(&a);
        let (rb, ub, ab, sb) = strip(&b);
        // Rendering keeps what loads (dropped entries are gone, lost sections kept verbatim).
        let loaded_a: Vec<_> = ra.clone();
        assert_eq!(loaded_a, rb, "{case}: render changed the loaded roles");
        assert_eq!(ua, ub, "{case}: render changed the loaded users");
        assert_eq!(aa, ab, "{case}: render changed the loaded accounts");
        assert_eq!(sa, sb, "{case}: render changed section states");
    }
}
