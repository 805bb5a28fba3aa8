//! Fleet audit: for each cluster, would we get back in if aws-auth broke today?
//!
//! A lockout is only an incident if nobody can get in any more. Two ways in survive a broken
//! aws-auth: an EKS access entry with cluster admin for a designated break-glass role (needs an
//! `API*` authentication mode), and the cluster's creator, if EKS still gives it admin (the
//! bootstrap flag), it still exists as the *same* principal (unique id) and someone can become
//! it. This module turns what the adapters observed about one cluster ([`Observation`]) into a
//! verdict ([`Assessment`]): which path exists, and what is wrong or missing, each finding with
//! the command that fixes it. A cluster with no path at all is *flagged*; `audit` exits with
//! [`crate::exit::FINDINGS`] when any is.
//!
//! Pure and synchronous: the adapters gather, this judges, so every rule is unit-tested without
//! AWS. Cheap observations come first (tags are in DescribeCluster's answer; one GetUser/GetRole
//! per distinct creator); CloudTrail is searched only with `--deep`, because at 2 requests/second
//! per region it would dominate a fleet's run time.

use super::creator::{CLUSTER_ADMIN_POLICY, Creator, CreatorSource};
use super::event::CreatorKind;
use super::principal::PrincipalState;
use crate::cluster::ClusterFacts;
use crate::ports::error::AwsError;
use serde::Serialize;

/// How sure a finding is that something is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One thing worth knowing about a cluster, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub level: Level,
    /// Stable identifier (`no-breakglass-path`, `creator-not-recorded`, …).
    pub code: &'static str,
    pub message: String,
    /// The command (or step) that fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// What is known about the creator.
#[derive(Debug, Clone, PartialEq)]
pub enum CreatorObservation {
    /// No record on the tags, and no deep search was made.
    NotRecorded,
    /// The tag record could not be read (why).
    BadRecord(String),
    /// A deep search (CloudTrail, S3, access entries) found nothing.
    NotFound(String),
    /// Known; `state` is `None` when the IAM check was refused or not made.
    Known {
        creator: Box<Creator>,
        state: Option<PrincipalState>,
        /// For users: whether a temporary access key can still be added (fewer than 2 keys).
        can_add_key: Option<bool>,
        /// Why the state is unknown (the action refused), if it is.
        detail: Option<String>,
    },
}

/// The designated break-glass role's access entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakglassObservation {
    /// No `--breakglass-role` given.
    NotConfigured,
    /// The cluster's mode does not read access entries (CONFIG_MAP): nothing was asked.
    NotApplicable { role_arn: String },
    /// No entry for the role.
    Missing { role_arn: String },
    /// An entry, with the access policies associated with it.
    Entry {
        role_arn: String,
        policies: Vec<String>,
    },
    /// The check failed (the IAM action and AWS's message).
    Error { role_arn: String, error: String },
}

/// aws-auth, read through the cluster's API (only with `--aws-auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsAuthObservation {
    NotChecked,
    /// API mode: aws-auth is not read by EKS.
    NotUsed,
    /// No kube-system/aws-auth ConfigMap.
    Missing,
    /// Linted: error and warning counts, and the first error's message.
    Linted {
        errors: usize,
        warnings: usize,
        first_error: Option<String>,
    },
    /// Could not be read (unreachable endpoint, 401/403…).
    Unreadable(String),
}

/// Everything the adapters observed about one cluster.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The account id (or the profile's name when the account is unknown).
    pub account: String,
    pub facts: ClusterFacts,
    pub creator: CreatorObservation,
    pub breakglass: BreakglassObservation,
    pub aws_auth: AwsAuthObservation,
}

/// The way back in that the audit found, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// An access entry with AmazonEKSClusterAdminPolicy for the break-glass role.
    AccessEntry,
    /// The creator: alive, same principal, implicit admin, reachable.
    Creator,
    /// None: the cluster is flagged.
    None,
}

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::AccessEntry => "access_entry",
            Path::Creator => "creator",
            Path::None => "none",
        }
    }
}

/// The verdict on one cluster. Field names are the JSON and CSV columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub account: String,
    pub region: String,
    pub cluster: String,
    pub arn: String,
    pub auth_mode: String,
    /// `bootstrapClusterCreatorAdminPermissions` (None: not reported, i.e. true on older clusters).
    pub creator_admin: Option<bool>,
    /// `public`, `private`, `public+private` or `unknown`.
    pub endpoint: String,
    pub creator_arn: Option<String>,
    pub creator_kind: Option<String>,
    /// `tags`, `cloudtrail`, `s3-trail`, `access-entry`.
    pub creator_source: Option<String>,
    /// `alive`, `deleted`, `recreated`, `path_changed`, `exists_unverified`, `root`, `unknown`,
    /// `not_recorded`, `not_found`, `bad_record`.
    pub creator_state: String,
    /// Same unique id as at creation (None: not known).
    pub creator_same_id: Option<bool>,
    /// `present` (with admin), `no_admin_policy`, `missing`, `not_applicable`, `not_configured`,
    /// `error`.
    pub breakglass_entry: String,
    /// `ok`, `errors`, `warnings`, `missing`, `not_used`, `unreadable`, `not_checked`.
    pub aws_auth: String,
    pub path: Path,
    /// No way back in: exit code 3.
    pub flagged: bool,
    pub findings: Vec<Finding>,
}

fn endpoint_access(f: &ClusterFacts) -> &'static str {
    match (f.endpoint_public_access, f.endpoint_private_access) {
        (Some(true), Some(true)) => "public+private",
        (Some(true), _) => "public",
        (_, Some(true)) => "private",
        _ => "unknown",
    }
}

fn has_admin_policy(policies: &[String]) -> bool {
    policies
        .iter()
        .any(|p| p.ends_with(&format!("/{CLUSTER_ADMIN_POLICY}")))
}

/// Judges one cluster. Pure.
pub fn assess(o: &Observation) -> Assessment {
    let f = &o.facts;
    let name = &f.name;
    let rf = if f.region.is_empty() {
        String::new()
    } else {
        format!(" --region {}", f.region)
    };
    let mode = f.effective_auth_mode();
    let mut findings = Vec::new();
    let mut find = |level, code, message: String, fix: Option<String>| {
        findings.push(Finding {
            level,
            code,
            message,
            fix,
        })
    };

    // 1. The break-glass role's access entry.
    let (entry_state, entry_path) = match &o.breakglass {
        BreakglassObservation::NotConfigured => ("not_configured", false),
        BreakglassObservation::NotApplicable { role_arn } => {
            find(
                Level::Warning,
                "breakglass-needs-api-mode",
                format!(
                    "authentication mode CONFIG_MAP: no access entry can exist for {role_arn}, \
                     so a broken aws-auth leaves only the creator"
                ),
                Some(format!(
                    "switch to API_AND_CONFIG_MAP (one-way; aws-auth keeps working) and add the \
                     entry: `eks-breakglass grant --cluster {name}{rf} --principal {role_arn} \
                     --allow-auth-mode-change`"
                )),
            );
            ("not_applicable", false)
        }
        BreakglassObservation::Missing { role_arn } => {
            find(
                Level::Warning,
                "breakglass-entry-missing",
                format!("no access entry for the break-glass role {role_arn}"),
                Some(format!(
                    "`eks-breakglass grant --cluster {name}{rf} --principal {role_arn}`"
                )),
            );
            ("missing", false)
        }
        BreakglassObservation::Entry { role_arn, policies } => {
            if has_admin_policy(policies) {
                ("present", true)
            } else {
                find(
                    Level::Warning,
                    "breakglass-entry-not-admin",
                    format!(
                        "the access entry for {role_arn} has no {CLUSTER_ADMIN_POLICY} \
                         (policies: {})",
                        if policies.is_empty() {
                            "none".to_string()
                        } else {
                            policies.join(", ")
                        }
                    ),
                    Some(format!(
                        "`eks-breakglass grant --cluster {name}{rf} --principal {role_arn}` \
                         associates it"
                    )),
                );
                ("no_admin_policy", false)
            }
        }
        BreakglassObservation::Error { role_arn, error } => {
            find(
                Level::Warning,
                "breakglass-check-failed",
                format!("could not check the access entry of {role_arn}: {error}"),
                Some("see `eks-breakglass policy audit` for the permissions audit needs".into()),
            );
            ("error", false)
        }
    };

    // 2. The creator.
    let admin_disabled = f.bootstrap_creator_admin == Some(false);
    if admin_disabled {
        find(
            Level::Info,
            "creator-admin-disabled",
            "created with bootstrapClusterCreatorAdminPermissions=false: the creator has no \
             implicit access"
                .into(),
            None,
        );
    }
    let record_fix = format!("`eks-breakglass record --cluster {name}{rf}`");
    let (creator_state, same_id, creator_path) = match &o.creator {
        CreatorObservation::NotRecorded => {
            find(
                Level::Warning,
                "creator-not-recorded",
                "the creator is not recorded on the cluster's tags (not searched: add --deep to \
                 search CloudTrail)"
                    .into(),
                Some(record_fix.clone()),
            );
            ("not_recorded".to_string(), None, false)
        }
        CreatorObservation::BadRecord(why) => {
            find(
                Level::Warning,
                "creator-record-unreadable",
                why.clone(),
                Some(record_fix.clone()),
            );
            ("bad_record".to_string(), None, false)
        }
        CreatorObservation::NotFound(why) => {
            find(
                Level::Warning,
                "creator-not-found",
                format!("the creator could not be found: {why}"),
                Some(format!("`eks-breakglass creator --cluster {name}{rf}`")),
            );
            ("not_found".to_string(), None, false)
        }
        CreatorObservation::Known {
            creator,
            state,
            can_add_key,
            detail,
        } => {
            if creator.source != CreatorSource::Tags {
                find(
                    Level::Info,
                    "creator-not-recorded",
                    format!(
                        "the creator was found through {} but is not recorded on the tags",
                        creator.source.describe()
                    ),
                    Some(record_fix.clone()),
                );
            }
            let state_s = state.map_or("unknown", PrincipalState::as_str).to_string();
            let same = match state {
                Some(PrincipalState::Alive | PrincipalState::PathChanged) => Some(true),
                Some(PrincipalState::Recreated) => Some(false),
                _ => None,
            };
            let reachable = creator_reachable(creator, *state, *can_add_key);
            match (state, &reachable) {
                (_, Ok(())) => {}
                (None | Some(PrincipalState::Unknown), Err(_)) => find(
                    Level::Warning,
                    "creator-state-unknown",
                    format!(
                        "could not check the creator {}: {}",
                        creator.arn,
                        detail.as_deref().unwrap_or("no IAM answer")
                    ),
                    Some("see `eks-breakglass policy audit`".into()),
                ),
                (Some(_), Err(why)) => find(
                    Level::Warning,
                    "creator-unusable",
                    format!("the creator {} cannot get in: {why}", creator.arn),
                    None,
                ),
            }
            if *state == Some(PrincipalState::ExistsUnverified) {
                find(
                    Level::Info,
                    "creator-id-unknown",
                    format!(
                        "the creator {} exists, but its unique id at creation is not recorded: \
                         a recreated principal would not be let in",
                        creator.arn
                    ),
                    None,
                );
            }
            (state_s, same, reachable.is_ok() && !admin_disabled)
        }
    };

    // 3. aws-auth.
    let aws_auth = match &o.aws_auth {
        AwsAuthObservation::NotChecked => "not_checked",
        AwsAuthObservation::NotUsed => "not_used",
        AwsAuthObservation::Missing => {
            if mode.reads_aws_auth() {
                find(
                    Level::Warning,
                    "aws-auth-missing",
                    "kube-system/aws-auth does not exist: nobody is mapped through it".into(),
                    Some(format!(
                        "`eks-breakglass aws-auth restore --cluster {name}{rf}`"
                    )),
                );
            }
            "missing"
        }
        AwsAuthObservation::Linted {
            errors,
            warnings,
            first_error,
        } => {
            if *errors > 0 {
                find(
                    Level::Error,
                    "aws-auth-errors",
                    format!(
                        "aws-auth has {errors} error(s){}",
                        first_error
                            .as_deref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    ),
                    Some(format!(
                        "`eks-breakglass aws-auth lint --cluster {name}{rf}`"
                    )),
                );
                "errors"
            } else if *warnings > 0 {
                "warnings"
            } else {
                "ok"
            }
        }
        AwsAuthObservation::Unreadable(why) => {
            find(
                Level::Info,
                "aws-auth-unreadable",
                format!("aws-auth could not be read: {why}"),
                None,
            );
            "unreadable"
        }
    };

    // 4. The endpoint.
    let endpoint = endpoint_access(f);
    if f.private_only() {
        find(
            Level::Info,
            "endpoint-private-only",
            "the API endpoint is private only: a recovery must run from inside the VPC (or a \
             bastion/tunnel with --api-server)"
                .into(),
            None,
        );
    }

    let path = if entry_path && mode.allows_access_entries() {
        Path::AccessEntry
    } else if creator_path {
        Path::Creator
    } else {
        Path::None
    };
    if path == Path::None {
        find(
            Level::Error,
            "no-breakglass-path",
            "no way back in if aws-auth breaks: no admin access entry for a break-glass role, \
             and no usable creator"
                .into(),
            Some(if mode.allows_access_entries() {
                format!(
                    "`eks-breakglass grant --cluster {name}{rf} --principal BREAKGLASS_ROLE_ARN`"
                )
            } else {
                format!(
                    "`eks-breakglass grant --cluster {name}{rf} --principal BREAKGLASS_ROLE_ARN \
                     --allow-auth-mode-change` (one-way switch to API_AND_CONFIG_MAP)"
                )
            }),
        );
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    let (creator_arn, creator_kind, creator_source) = match &o.creator {
        CreatorObservation::Known { creator, .. } => (
            Some(creator.arn.clone()),
            Some(creator.kind.as_str().to_string()),
            Some(creator.source.as_str().to_string()),
        ),
        _ => (None, None, None),
    };
    Assessment {
        account: o.account.clone(),
        region: f.region.clone(),
        cluster: f.name.clone(),
        arn: f.arn.clone(),
        auth_mode: mode.as_str().to_string(),
        creator_admin: f.bootstrap_creator_admin,
        endpoint: endpoint.to_string(),
        creator_arn,
        creator_kind,
        creator_source,
        creator_state,
        creator_same_id: same_id,
        breakglass_entry: entry_state.to_string(),
        aws_auth: aws_auth.to_string(),
        path,
        flagged: path == Path::None,
        findings,
    }
}

/// Whether someone can become the creator as things stand; `Err` says why not.
fn creator_reachable(
    c: &Creator,
    state: Option<PrincipalState>,
    can_add_key: Option<bool>,
) -> Result<(), String> {
    match state {
        Some(PrincipalState::Alive | PrincipalState::PathChanged)
        | Some(PrincipalState::ExistsUnverified) => {}
        Some(PrincipalState::Deleted) => return Err("it was deleted".into()),
        Some(PrincipalState::Recreated) => {
            return Err(
                "it was deleted and recreated: another unique id, which EKS does not honour".into(),
            );
        }
        Some(PrincipalState::Root) => {
            return Err("it is the account root user; tools should not use root".into());
        }
        Some(PrincipalState::Unknown) | None => return Err("its state is unknown".into()),
    }
    match c.kind {
        CreatorKind::IamUser | CreatorKind::FederatedUser => {
            if can_add_key == Some(false) {
                Err("the user already has 2 access keys: no temporary key can be added".into())
            } else {
                Ok(())
            }
        }
        // An admin can assume the role (patching its trust if needed); Identity Center roles
        // are reached by signing in to the permission set.
        CreatorKind::AssumedRole | CreatorKind::IdentityCenterRole => Ok(()),
        CreatorKind::Root => Err("it is the account root user".into()),
        CreatorKind::Other => Err("it is not an IAM user or role".into()),
    }
}

/// Totals over a fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub clusters: usize,
    pub flagged: usize,
    pub via_access_entry: usize,
    pub via_creator: usize,
    pub creator_not_recorded: usize,
    pub aws_auth_errors: usize,
    pub accounts: usize,
    pub regions: usize,
    /// Accounts or regions that could not be listed.
    pub errors: usize,
}

pub fn summarize(items: &[Assessment], errors: usize) -> Summary {
    let accounts: std::collections::BTreeSet<&str> =
        items.iter().map(|a| a.account.as_str()).collect();
    let regions: std::collections::BTreeSet<&str> =
        items.iter().map(|a| a.region.as_str()).collect();
    Summary {
        clusters: items.len(),
        flagged: items.iter().filter(|a| a.flagged).count(),
        via_access_entry: items.iter().filter(|a| a.path == Path::AccessEntry).count(),
        via_creator: items.iter().filter(|a| a.path == Path::Creator).count(),
        creator_not_recorded: items
            .iter()
            .filter(|a| a.creator_source.as_deref() != Some("tags"))
            .count(),
        aws_auth_errors: items.iter().filter(|a| a.aws_auth == "errors").count(),
        accounts: accounts.len(),
        regions: regions.len(),
        errors,
    }
}

/// An account or region that could not be listed, or a cluster that could not be described.
#[derive(Debug, Clone, Serialize)]
pub struct AuditError {
    pub account: String,
    pub region: String,
    pub cluster: Option<String>,
    pub action: String,
    pub message: String,
}

impl AuditError {
    pub fn new(account: &str, region: &str, cluster: Option<&str>, e: &AwsError) -> AuditError {
        AuditError {
            account: account.to_string(),
            region: region.to_string(),
            cluster: cluster.map(str::to_string),
            action: e.action.clone(),
            message: match &e.hint {
                Some(h) => format!("{e} ({h})"),
                None => e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::AuthMode;
    use std::collections::BTreeMap;

    const ROLE: &str = "arn:aws:iam::123456789012:role/breakglass";
    const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

    fn facts(mode: Option<AuthMode>) -> ClusterFacts {
        ClusterFacts {
            name: "prod".into(),
            arn: "arn:aws:eks:eu-west-1:123456789012:cluster/prod".into(),
            region: "eu-west-1".into(),
            status: Some("ACTIVE".into()),
            version: Some("1.31".into()),
            platform_version: None,
            created_at: None,
            endpoint: Some("https://x".into()),
            ca_pem: None,
            endpoint_public_access: Some(true),
            endpoint_private_access: Some(false),
            auth_mode: mode,
            bootstrap_creator_admin: Some(true),
            tags: BTreeMap::new(),
        }
    }

    fn user_creator(source: CreatorSource) -> Creator {
        let mut c = Creator::from_arn(
            "arn:aws:iam::123456789012:user/admins/platform-admin",
            Some(CreatorKind::IamUser),
            source,
        );
        c.unique_id = Some("AIDAX".into());
        c
    }

    fn obs(
        mode: Option<AuthMode>,
        creator: CreatorObservation,
        bg: BreakglassObservation,
    ) -> Observation {
        Observation {
            account: "123456789012".into(),
            facts: facts(mode),
            creator,
            breakglass: bg,
            aws_auth: AwsAuthObservation::NotChecked,
        }
    }

    fn known(state: PrincipalState, can_add_key: Option<bool>) -> CreatorObservation {
        CreatorObservation::Known {
            creator: Box::new(user_creator(CreatorSource::Tags)),
            state: Some(state),
            can_add_key,
            detail: None,
        }
    }

    fn codes(a: &Assessment) -> Vec<&str> {
        a.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn admin_entry_for_the_breakglass_role_is_a_path() {
        let a = assess(&obs(
            Some(AuthMode::ApiAndConfigMap),
            CreatorObservation::NotRecorded,
            BreakglassObservation::Entry {
                role_arn: ROLE.into(),
                policies: vec![ADMIN.into()],
            },
        ));
        assert_eq!(a.path, Path::AccessEntry);
        assert!(!a.flagged);
        assert_eq!(a.breakglass_entry, "present");
        assert_eq!(a.creator_state, "not_recorded");
        assert!(codes(&a).contains(&"creator-not-recorded"));
    }

    #[test]
    fn entry_without_admin_policy_is_not_a_path() {
        let a = assess(&obs(
            Some(AuthMode::Api),
            CreatorObservation::NotRecorded,
            BreakglassObservation::Entry {
                role_arn: ROLE.into(),
                policies: vec!["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into()],
            },
        ));
        assert!(a.flagged);
        assert_eq!(a.breakglass_entry, "no_admin_policy");
        assert!(codes(&a).contains(&"breakglass-entry-not-admin"));
        assert_eq!(a.findings[0].code, "no-breakglass-path");
        assert!(a.findings[0].fix.as_deref().unwrap().contains("grant"));
    }

    #[test]
    fn alive_creator_with_admin_is_a_path() {
        let a = assess(&obs(
            None,
            known(PrincipalState::Alive, Some(true)),
            BreakglassObservation::NotConfigured,
        ));
        assert_eq!(a.path, Path::Creator);
        assert_eq!(a.creator_state, "alive");
        assert_eq!(a.creator_same_id, Some(true));
        assert_eq!(a.creator_source.as_deref(), Some("tags"));
        assert_eq!(a.auth_mode, "CONFIG_MAP");
        assert!(!codes(&a).contains(&"creator-not-recorded"));
    }

    #[test]
    fn deleted_or_recreated_creator_in_config_map_mode_is_flagged() {
        for (state, same) in [
            (PrincipalState::Deleted, None),
            (PrincipalState::Recreated, Some(false)),
        ] {
            let a = assess(&obs(
                Some(AuthMode::ConfigMap),
                known(state, None),
                BreakglassObservation::NotApplicable {
                    role_arn: ROLE.into(),
                },
            ));
            assert!(a.flagged, "{state:?}");
            assert_eq!(a.creator_same_id, same);
            assert!(codes(&a).contains(&"creator-unusable"));
            assert!(codes(&a).contains(&"breakglass-needs-api-mode"));
            assert!(
                a.findings[0]
                    .fix
                    .as_deref()
                    .unwrap()
                    .contains("--allow-auth-mode-change")
            );
        }
    }

    #[test]
    fn creator_admin_disabled_means_the_creator_is_no_path() {
        let mut o = obs(
            Some(AuthMode::ApiAndConfigMap),
            known(PrincipalState::Alive, Some(true)),
            BreakglassObservation::Missing {
                role_arn: ROLE.into(),
            },
        );
        o.facts.bootstrap_creator_admin = Some(false);
        let a = assess(&o);
        assert!(a.flagged);
        assert!(codes(&a).contains(&"creator-admin-disabled"));
        assert!(codes(&a).contains(&"breakglass-entry-missing"));
    }

    #[test]
    fn user_with_two_keys_is_not_reachable() {
        let a = assess(&obs(
            None,
            known(PrincipalState::Alive, Some(false)),
            BreakglassObservation::NotConfigured,
        ));
        assert!(a.flagged);
        assert!(
            a.findings
                .iter()
                .any(|f| f.code == "creator-unusable" && f.message.contains("2 access keys"))
        );
    }

    #[test]
    fn unknown_state_says_why_and_is_no_path() {
        let a = assess(&obs(
            None,
            CreatorObservation::Known {
                creator: Box::new(user_creator(CreatorSource::Tags)),
                state: None,
                can_add_key: None,
                detail: Some("access denied: iam:GetUser".into()),
            },
            BreakglassObservation::NotConfigured,
        ));
        assert!(a.flagged);
        let f = a
            .findings
            .iter()
            .find(|f| f.code == "creator-state-unknown")
            .unwrap();
        assert!(f.message.contains("iam:GetUser"));
    }

    #[test]
    fn root_creator_is_no_path_and_role_creator_is() {
        let root = CreatorObservation::Known {
            creator: Box::new(Creator::from_arn(
                "arn:aws:iam::123456789012:root",
                None,
                CreatorSource::Cloudtrail,
            )),
            state: Some(PrincipalState::Root),
            can_add_key: None,
            detail: None,
        };
        let a = assess(&obs(None, root, BreakglassObservation::NotConfigured));
        assert!(a.flagged);
        assert_eq!(a.creator_kind.as_deref(), Some("root"));
        let role = CreatorObservation::Known {
            creator: Box::new(Creator::from_arn(
                "arn:aws:iam::123456789012:role/ci/deployer",
                None,
                CreatorSource::Tags,
            )),
            state: Some(PrincipalState::ExistsUnverified),
            can_add_key: None,
            detail: None,
        };
        let a = assess(&obs(None, role, BreakglassObservation::NotConfigured));
        assert_eq!(a.path, Path::Creator);
        assert!(codes(&a).contains(&"creator-id-unknown"));
    }

    #[test]
    fn aws_auth_errors_and_private_endpoint_are_reported() {
        let mut o = obs(
            None,
            known(PrincipalState::Alive, Some(true)),
            BreakglassObservation::NotConfigured,
        );
        o.aws_auth = AwsAuthObservation::Linted {
            errors: 1,
            warnings: 0,
            first_error: Some("mapUsers: section lost".into()),
        };
        o.facts.endpoint_public_access = Some(false);
        o.facts.endpoint_private_access = Some(true);
        let a = assess(&o);
        assert_eq!(a.aws_auth, "errors");
        assert_eq!(a.endpoint, "private");
        assert_eq!(a.findings[0].code, "aws-auth-errors");
        assert!(codes(&a).contains(&"endpoint-private-only"));
        assert!(!a.flagged);
    }

    #[test]
    fn summary_counts() {
        let ok = assess(&obs(
            None,
            known(PrincipalState::Alive, Some(true)),
            BreakglassObservation::NotConfigured,
        ));
        let bad = assess(&obs(
            None,
            CreatorObservation::NotRecorded,
            BreakglassObservation::NotConfigured,
        ));
        let s = summarize(&[ok, bad], 1);
        assert_eq!(s.clusters, 2);
        assert_eq!(s.flagged, 1);
        assert_eq!(s.via_creator, 1);
        assert_eq!(s.creator_not_recorded, 1);
        assert_eq!(s.errors, 1);
        assert_eq!(s.accounts, 1);
    }
}
