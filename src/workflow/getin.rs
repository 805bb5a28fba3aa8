//! Getting in, as `grant`, `assume-creator` and `recover` share it: who the caller is as an
//! IAM principal, whether an existing access entry is stale, what the grant plan starts from,
//! and which way into the creator the facts allow. Through the IAM and EKS-access ports only.

use crate::arn::PrincipalArn;
use crate::error::AppError;
use crate::ports::eks_access::{AccessEntryFacts, EksAccess};
use crate::ports::iam::Iam;
use crate::recovery::creator::Creator;
use crate::recovery::getin::{self, Facts, GrantFacts, Route};
use crate::recovery::principal::PrincipalStatus;
use crate::recovery::trust::TrustCondition;

/// The IAM principal behind an ARN: a user as is, a session resolved to its role's real ARN
/// (with the path STS does not show) through GetRole.
pub async fn resolve_principal(iam: &impl Iam, arn: &str) -> Result<String, AppError> {
    let parsed =
        PrincipalArn::parse(arn).map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
    match parsed {
        PrincipalArn::User { .. } => Ok(parsed.to_string()),
        PrincipalArn::Role { ref name, .. } => match iam.role_arn(name).await? {
            Some(r) => Ok(r),
            None => Err(AppError::usage(format!("role {arn} does not exist"), None)),
        },
        PrincipalArn::AssumedRole { ref role_name, .. } => match iam.role_arn(role_name).await? {
            Some(r) => Ok(r),
            None => Err(AppError::failed(
                format!("the role behind the session {arn} no longer exists"),
                Some("pass --principal ARN".to_string()),
            )),
        },
        PrincipalArn::Root { .. } | PrincipalArn::FederatedUser { .. } => Err(AppError::usage(
            format!("{arn} cannot have an access entry (only IAM users and roles can)"),
            Some("pass --principal with an IAM user or role ARN".to_string()),
        )),
    }
}

/// Why an existing entry is stale: it was made before its principal (CreateDate), so the
/// principal was deleted and recreated since. EKS binds an entry to the principal's unique id
/// ("if you don't delete the access entry and ever recreate the IAM principal, even if it has
/// the same ARN, the access entry won't work": EKS API reference, AccessEntry.principalArn);
/// the AccessEntry shape carries no principal id, so the dates are the evidence.
pub async fn stale_entry(
    iam: &impl Iam,
    principal: &str,
    entry: &AccessEntryFacts,
) -> Result<Option<String>, AppError> {
    let Some(entry_made) = entry.created_at else {
        return Ok(None);
    };
    let created = match PrincipalArn::parse(principal) {
        Ok(PrincipalArn::User { name, .. }) => iam.user_created(&name).await?,
        Ok(PrincipalArn::Role { name, .. }) => iam.role_created(&name).await?,
        _ => None,
    };
    Ok(crate::recovery::access_entries::stale_reason(
        principal,
        Some(entry_made),
        created,
        &entry.kubernetes_groups,
    ))
}

/// What the grant plan starts from: the principal's entry (when the mode honours entries),
/// its policies, and whether it is stale.
pub async fn grant_facts(
    aws: &(impl Iam + EksAccess),
    cluster: &crate::cluster::ClusterFacts,
    region: &str,
    partition: &str,
    principal: &str,
) -> Result<GrantFacts, AppError> {
    let mode = cluster.effective_auth_mode();
    let (entry_exists, (associated, namespace_scoped), stale_entry) =
        if mode.allows_access_entries() {
            match aws.access_entry(&cluster.name, principal).await? {
                Some(entry) => (
                    true,
                    (entry.associated.clone(), entry.namespace_scoped.clone()),
                    stale_entry(aws, principal, &entry).await?,
                ),
                None => (false, Default::default(), None),
            }
        } else {
            (false, Default::default(), None)
        };
    Ok(GrantFacts {
        cluster: cluster.name.clone(),
        region: region.to_string(),
        partition: partition.to_string(),
        auth_mode: mode,
        principal_arn: principal.to_string(),
        entry_exists,
        associated,
        namespace_scoped,
        stale_entry,
    })
}

/// The way into the creator the facts allow: its trust policy (a role) or its keys (a user),
/// read without changing anything.
pub async fn creator_route(
    iam: &impl Iam,
    creator: &Creator,
    status: Option<&PrincipalStatus>,
) -> Result<Route, AppError> {
    let is_role = creator.arn.contains(":role/");
    let name = creator.name.clone().unwrap_or_default();
    let trust_document = if is_role && !name.is_empty() {
        iam.role_trust_policy(&name).await?
    } else {
        None
    };
    let keys = if !is_role && !name.is_empty() {
        iam.access_key_ids(&name).await
    } else {
        None
    };
    Ok(getin::choose_route(&Facts {
        creator,
        status,
        trust_document: trust_document.as_deref(),
        access_keys: keys.as_deref(),
    }))
}

/// STS refuses a DurationSeconds above the role's MaxSessionDuration ("The requested
/// DurationSeconds exceeds the MaxSessionDuration set for this role", STS API reference,
/// AssumeRole): known from GetRole, so refused before any change. `role_max` is the role's
/// MaxSessionDuration (`Ok(Some(3600))` for a role this run recreates: IAM's default;
/// `Err(())`: GetRole was refused, so it is not known).
pub fn check_duration(
    duration: Option<u64>,
    is_role: bool,
    creator_arn: &str,
    role_max: Result<Option<i32>, ()>,
) -> Result<(), AppError> {
    let (Some(d), true) = (duration, is_role) else {
        return Ok(());
    };
    let max = role_max.ok().flatten().map(i64::from);
    match max.filter(|m| i64::try_from(d).unwrap_or(i64::MAX) > *m) {
        Some(max) => Err(AppError::usage(
            format!(
                "--duration {d} is above the MaxSessionDuration of {creator_arn} ({max} s): AssumeRole \
                 would be refused"
            ),
            Some(format!(
                "pass --duration {max} or less (or raise the role's MaxSessionDuration)"
            )),
        )),
        None => Ok(()),
    }
}

/// A user at IAM's key limit: why no temporary key can be added, and what to do — naming the
/// keys an earlier break-glass run kept (`ours`: key id → its run directory) apart from the
/// others.
/// The key-limit instructions for `user_name`, naming a key an earlier break-glass run kept
/// (from the default run directories; none when the run keeps its journal elsewhere).
pub fn key_limit_here(
    user_name: &str,
    keys: &[String],
    own_journal_dir: bool,
    cluster: &str,
) -> (String, Vec<String>) {
    let ours = if own_journal_dir {
        Vec::new()
    } else {
        crate::recovery::journal::default_runs_dir()
            .map(|base| crate::recovery::journal::run_keys(&base, user_name))
            .unwrap_or_default()
    };
    key_limit(user_name, keys, &ours, cluster)
}

pub fn key_limit(
    user_name: &str,
    keys: &[String],
    ours: &[(String, std::path::PathBuf)],
    cluster: &str,
) -> (String, Vec<String>) {
    let why = format!(
        "user {user_name} already has {} access keys ({}), the most IAM allows; a temporary key cannot be added",
        keys.len(),
        keys.join(", ")
    );
    let mut steps: Vec<String> = ours
        .iter()
        .filter(|(id, _)| keys.contains(id))
        .map(|(id, dir)| {
            format!(
                "{id} was created by an earlier eks-breakglass run and kept: remove it with `eks-breakglass cleanup --journal {}`, then re-run",
                dir.display()
            )
        })
        .collect();
    let others: Vec<&String> = keys
        .iter()
        .filter(|k| !ours.iter().any(|(id, _)| id == *k))
        .collect();
    if !others.is_empty() {
        steps.push(format!(
            "{} {} not made by eks-breakglass (no run under the state directory made it): delete or deactivate one only after checking its last use (`aws iam get-access-key-last-used --access-key-id ID`), then re-run",
            others.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
            if others.len() == 1 { "is" } else { "are" }
        ));
    }
    steps.push(format!("or use `eks-breakglass grant --cluster {cluster}`"));
    (why, steps)
}

fn require_mfa_without_device() -> AppError {
    AppError::usage(
        "--require-mfa makes the trust statement this run adds admit MFA sessions only, \
         and no MFA device was given: the AssumeRole after it would be refused",
        Some("pass --mfa-serial ARN --token-code CODE as well (or drop --require-mfa)".to_string()),
    )
}

/// What AWS would refuse after the change is refused before it (never in --dry-run): a role
/// whose trust asks for MFA without a device; a trust statement that a Deny on sessions
/// without MFA would defeat; a statement or role that `--require-mfa` makes MFA-only, without
/// a device.
pub fn refuse_before_change(
    route: &Route,
    status: Option<&PrincipalStatus>,
    mfa_given: bool,
    require_mfa: bool,
    dry_run: bool,
) -> Result<(), AppError> {
    if mfa_given || dry_run {
        return Ok(());
    }
    match route {
        Route::AssumeRole {
            mfa_required: true, ..
        } => Err(AppError::usage(
            "the creator role's trust policy requires MFA",
            Some("pass --mfa-serial ARN --token-code CODE".to_string()),
        )),
        // No Allow names the caller, but a Deny refuses sessions without MFA: a trust
        // statement added for the caller would be defeated by it.
        Route::PatchTrust { .. } => {
            if let Some(t) = status.and_then(|s| s.trust.as_ref()).filter(|t| {
                t.conditions
                    .iter()
                    .any(|c| matches!(c, TrustCondition::Mfa { .. }))
            }) {
                return Err(AppError::usage(
                    format!(
                        "the creator role's trust policy has a Deny ({}) for sessions without MFA: \
                         a trust statement added for you would not beat it",
                        t.statement.as_deref().unwrap_or("?")
                    ),
                    Some("pass --mfa-serial ARN --token-code CODE".to_string()),
                ));
            }
            if require_mfa {
                return Err(require_mfa_without_device());
            }
            Ok(())
        }
        Route::RecreateRole { .. } if require_mfa => Err(require_mfa_without_device()),
        _ => Ok(()),
    }
}

/// A kept key nobody has the secret of is a live credential no one can use or rotate:
/// `--keep` of a temporary key needs a hand-over file (or the export lines).
pub fn check_handover(
    keep: bool,
    key_route: bool,
    credentials_file: bool,
    print_env: bool,
) -> Result<(), AppError> {
    if keep && key_route && !credentials_file && !print_env {
        return Err(AppError::usage(
            "--keep keeps the temporary access key after the run, but without --credentials-file nobody would ever have its secret: a live key that no one can use",
            Some(
                "add --credentials-file FILE (one profile section, written 0600, the rest of the file kept), or drop --keep"
                    .to_string(),
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{AuthMode, ClusterFacts};
    use crate::ports::iam::Mfa;
    use crate::recovery::creator::CreatorSource;
    use crate::recovery::plan::Interrupt;
    use crate::recovery::principal::PrincipalState;
    use crate::recovery::trust::{PrincipalMatch, TrustDecision, TrustEvaluation};
    use aws_credential_types::Credentials;
    use chrono::{DateTime, Utc};
    use std::collections::BTreeMap;
    use std::time::Duration;

    const USER: &str = "arn:aws:iam::123456789012:user/oncall";
    const ROLE: &str = "arn:aws:iam::123456789012:role/team/ops/admin";

    #[derive(Default)]
    struct Fake {
        role_arns: BTreeMap<String, String>,
        trust: Option<String>,
        created: Option<DateTime<Utc>>,
        entry: Option<AccessEntryFacts>,
    }

    impl Iam for Fake {
        async fn role_trust_policy(&self, _n: &str) -> Result<Option<String>, AppError> {
            Ok(self.trust.clone())
        }
        async fn access_key_ids(&self, _n: &str) -> Option<Vec<String>> {
            Some(vec!["AKIA1".into()])
        }
        async fn user_created(&self, _n: &str) -> Result<Option<DateTime<Utc>>, AppError> {
            Ok(self.created)
        }
        async fn role_created(&self, _n: &str) -> Result<Option<DateTime<Utc>>, AppError> {
            Ok(self.created)
        }
        async fn role_arn(&self, name: &str) -> Result<Option<String>, AppError> {
            Ok(self.role_arns.get(name).cloned())
        }
        async fn assume_role(&self, _r: &str, _m: Option<&Mfa>) -> Result<Credentials, AppError> {
            Err(AppError::failed("not used", None))
        }
        async fn acquire_credentials(
            &self,
            _route: &Route,
            _key: Option<Credentials>,
            _mfa: Option<&Mfa>,
            _d: Option<Duration>,
            _w: Duration,
            _i: &Interrupt,
            _p: &impl Fn(&str),
        ) -> Result<Credentials, AppError> {
            Err(AppError::failed("not used", None))
        }
    }

    impl EksAccess for Fake {
        async fn has_access_entry(&self, _c: &str, _p: &str) -> Result<bool, AppError> {
            Ok(self.entry.is_some())
        }
        async fn access_entry(
            &self,
            _c: &str,
            _p: &str,
        ) -> Result<Option<AccessEntryFacts>, AppError> {
            Ok(self.entry.clone())
        }
    }

    fn cluster(mode: AuthMode) -> ClusterFacts {
        ClusterFacts {
            name: "prod".into(),
            arn: "arn:aws:eks:eu-west-1:123456789012:cluster/prod".into(),
            region: "eu-west-1".into(),
            status: None,
            version: None,
            platform_version: None,
            created_at: None,
            endpoint: None,
            ca_pem: None,
            endpoint_public_access: None,
            endpoint_private_access: None,
            auth_mode: Some(mode),
            bootstrap_creator_admin: None,
            tags: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn a_session_resolves_to_its_role_with_the_path_and_root_is_refused() {
        let mut f = Fake::default();
        f.role_arns.insert("admin".into(), ROLE.into());
        let session = "arn:aws:sts::123456789012:assumed-role/admin/me";
        assert_eq!(resolve_principal(&f, session).await.unwrap(), ROLE);
        assert_eq!(resolve_principal(&f, USER).await.unwrap(), USER);
        let gone = "arn:aws:sts::123456789012:assumed-role/gone/me";
        let e = resolve_principal(&f, gone).await.unwrap_err();
        assert!(e.to_string().contains("no longer exists"), "{e}");
        let e = resolve_principal(&f, "arn:aws:iam::123456789012:root")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("cannot have an access entry"), "{e}");
    }

    #[tokio::test]
    async fn an_entry_older_than_its_principal_is_stale_and_the_grant_deletes_it_first() {
        let made = Utc::now() - chrono::Duration::days(10);
        let mut f = Fake {
            entry: Some(AccessEntryFacts {
                created_at: Some(made),
                kubernetes_groups: vec!["ops".into()],
                ..AccessEntryFacts::default()
            }),
            created: Some(Utc::now()),
            ..Fake::default()
        };
        let facts = grant_facts(&f, &cluster(AuthMode::Api), "eu-west-1", "aws", USER)
            .await
            .unwrap();
        assert!(facts.entry_exists);
        let why = facts.stale_entry.unwrap_or_default();
        assert!(
            why.contains("deleted and recreated since") && why.contains("ops"),
            "{why}"
        );
        // A principal older than its entry: the entry is the principal's.
        f.created = Some(made - chrono::Duration::days(1));
        let facts = grant_facts(&f, &cluster(AuthMode::Api), "eu-west-1", "aws", USER)
            .await
            .unwrap();
        assert!(facts.stale_entry.is_none());
        // CONFIG_MAP: entries are not asked about at all.
        let facts = grant_facts(&f, &cluster(AuthMode::ConfigMap), "eu-west-1", "aws", USER)
            .await
            .unwrap();
        assert!(!facts.entry_exists);
    }

    #[tokio::test]
    async fn the_creator_route_follows_the_trust_policy_read_now() {
        let creator = Creator::from_arn(ROLE, None, CreatorSource::Cloudtrail);
        let mut status = PrincipalStatus::new(PrincipalState::Alive, "s");
        status.trust = Some(TrustEvaluation {
            decision: TrustDecision::NotTrusted,
            principal_match: Some(PrincipalMatch::Account),
            statement: None,
            conditions: vec![],
            notes: vec![],
        });
        let f = Fake {
            trust: Some("{\"Statement\":[]}".into()),
            ..Fake::default()
        };
        let route = creator_route(&f, &creator, Some(&status)).await.unwrap();
        assert!(matches!(route, Route::PatchTrust { .. }), "{route:?}");
        // Without the document (GetRole refused) there is nothing to patch.
        let route = creator_route(&Fake::default(), &creator, Some(&status))
            .await
            .unwrap();
        assert!(matches!(route, Route::Instructions { .. }), "{route:?}");
    }

    #[test]
    fn a_duration_above_the_roles_maximum_is_refused_before_any_change() {
        let e = check_duration(Some(7200), true, ROLE, Ok(Some(3600))).unwrap_err();
        assert!(
            e.to_string().contains("above the MaxSessionDuration"),
            "{e}"
        );
        assert!(check_duration(Some(3600), true, ROLE, Ok(Some(3600))).is_ok());
        // Unknown maximum (GetRole refused): AWS decides.
        assert!(check_duration(Some(99_999), true, ROLE, Err(())).is_ok());
        assert!(check_duration(Some(99_999), false, USER, Ok(Some(3600))).is_ok());
    }

    #[test]
    fn mfa_refusals_come_before_the_change_and_never_in_dry_run() {
        let assume = Route::AssumeRole {
            role_arn: ROLE.into(),
            mfa_required: true,
            conditions: vec![],
        };
        assert!(refuse_before_change(&assume, None, false, false, false).is_err());
        assert!(refuse_before_change(&assume, None, true, false, false).is_ok());
        assert!(refuse_before_change(&assume, None, false, false, true).is_ok());
        let recreate = Route::RecreateRole {
            role_name: "admin".into(),
            path: "/".into(),
            role_arn: ROLE.into(),
        };
        assert!(refuse_before_change(&recreate, None, false, true, false).is_err());
        assert!(refuse_before_change(&recreate, None, false, false, false).is_ok());
    }

    #[test]
    fn a_kept_key_needs_a_hand_over_and_the_key_limit_names_our_keys() {
        assert!(check_handover(true, true, false, false).is_err());
        assert!(check_handover(true, true, true, false).is_ok());
        assert!(check_handover(true, false, false, false).is_ok());
        let keys = vec!["AKIA1".to_string(), "AKIA2".to_string()];
        let ours = vec![("AKIA2".to_string(), std::path::PathBuf::from("/runs/r1"))];
        let (why, steps) = key_limit("ann", &keys, &ours, "prod");
        assert!(why.contains("already has 2 access keys"), "{why}");
        assert!(steps[0].starts_with("AKIA2 was created by an earlier eks-breakglass run"));
        assert!(steps[1].starts_with("AKIA1 is not made by eks-breakglass"));
        assert_eq!(steps[2], "or use `eks-breakglass grant --cluster prod`");
    }
}

/// `--allow-access-gain X` for each identity.
pub fn consent_flags(gains: &[(String, String)]) -> String {
    gains
        .iter()
        .map(|(id, _)| format!("--allow-access-gain {id}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The refusal of NEW access without a consent naming it (exit 4). `gains` are (identity, line
/// for people); `flag_hint` goes before the flags that name them (other flags the re-run needs).
pub fn access_gain_refusal(gains: &[(String, String)], flag_hint: &str) -> AppError {
    let list = gains
        .iter()
        .map(|(_, l)| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    let flags = consent_flags(gains);
    AppError::AccessGainNotAllowed(format!(
        "the new aws-auth grants NEW access that nothing in the live aws-auth names, and --yes alone never approves that; aws-auth was not written. Still needing consent:\n{list}\nre-run with {flag_hint}{flags} if this is meant (each --allow-access-gain approves only the identity it names)"
    ))
}

/// The way in creates an access key (the key is the credential).
pub fn is_key_route(route: &Route) -> bool {
    matches!(
        route,
        Route::TemporaryKey { .. } | Route::RecreateUser { .. }
    )
}

/// Whether the run keeps its temporary key: `--keep`, or a key handed over (a credentials
/// file or the export lines) — a handed-over key deleted at the end would be useless.
pub fn keeps_key(keep: bool, key_route: bool, credentials_file: bool, print_env: bool) -> bool {
    keep || (key_route && (credentials_file || print_env))
}

/// The role the creator's credentials are sessions of, when the route goes through a role.
pub fn route_role_arn(route: &Route) -> Option<&str> {
    match route {
        Route::AssumeRole { role_arn, .. }
        | Route::PatchTrust { role_arn, .. }
        | Route::RecreateRole { role_arn, .. } => Some(role_arn),
        _ => None,
    }
}

/// How kubectl's `token` gets the creator's credentials in the kubeconfig context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigExec<'a> {
    /// From the credentials file written (keys; MFA sessions, which cannot be re-assumed
    /// without a code), through `token --profile`.
    CredentialsFile,
    /// Assuming `role` on each token with the operator's own credentials (`None`: the operator
    /// is the creator).
    Operator { role: Option<&'a str> },
    /// No context: why.
    None { why: &'static str },
}

/// The kubeconfig context's way to the creator's credentials.
pub fn kubeconfig_exec(route: &Route, credentials_file: bool, mfa: bool) -> KubeconfigExec<'_> {
    let role = route_role_arn(route);
    if credentials_file && (is_key_route(route) || mfa) {
        KubeconfigExec::CredentialsFile
    } else if (role.is_some() && !mfa) || matches!(route, Route::AlreadyCreator) {
        KubeconfigExec::Operator { role }
    } else if mfa {
        KubeconfigExec::None {
            why: "no kubeconfig context: an MFA session cannot be renewed by kubectl; pass --credentials-file FILE to hand the session over",
        }
    } else {
        KubeconfigExec::None {
            why: "no kubeconfig context: the temporary key is deleted when the run ends (use --keep --credentials-file FILE to hand it over)",
        }
    }
}

/// How an `assume-creator` run ends, from the login as the creator.
#[derive(Debug)]
pub struct CreatorOutcome {
    /// The exit code, or the run's error.
    pub result: Result<u8, AppError>,
    /// What to run next when the creator did not get in.
    pub next: Option<String>,
    /// Why the cluster refused the creator (said on stderr).
    pub refused: Option<&'static str>,
}

/// The outcome of `assume-creator` from the verification as the creator: in (exit 0), refused
/// (exit 3, with why: a recreated principal has a new unique id EKS does not know), or failed.
pub fn creator_outcome(
    v: &crate::ports::kube::Verification,
    route: &Route,
    status: Option<&PrincipalStatus>,
    cluster: &str,
) -> CreatorOutcome {
    use crate::ports::kube::Verification;
    let next = (!matches!(v, Verification::Authenticated { .. }))
        .then(|| format!("eks-breakglass grant --cluster {cluster}"));
    let (result, refused) = match v {
        Verification::Authenticated { .. } => (Ok(crate::exit::OK), None),
        Verification::Refused { .. } => {
            let recreated = matches!(
                route,
                Route::RecreateUser { .. } | Route::RecreateRole { .. }
            ) || status
                .is_some_and(|s| s.state == crate::recovery::principal::PrincipalState::Recreated);
            (
                Ok(crate::exit::CREATOR_UNUSABLE),
                Some(if recreated {
                    "the cluster refuses the recreated principal: EKS bound the creator to the old unique id"
                } else {
                    "the cluster refuses the creator: its implicit admin may have been removed"
                }),
            )
        }
        Verification::Interrupted => (Err(AppError::Interrupted), None),
        Verification::Failed { error } => (
            Err(AppError::failed(
                format!("could not verify access: {error}"),
                None,
            )),
            None,
        ),
    };
    CreatorOutcome {
        result,
        next,
        refused,
    }
}

/// `grant`: the one-way auth-mode switch an access entry needs on a CONFIG_MAP cluster is
/// refused without its consent (a dry run only shows the plan that needs it).
pub fn grant_mode_consent(
    needs_switch: bool,
    allowed: bool,
    dry_run: bool,
    cluster: &str,
) -> Result<(), AppError> {
    use crate::recovery::getin::AUTH_MODE_CONSENT;
    if !needs_switch || allowed || dry_run {
        return Ok(());
    }
    Err(AppError::usage(
        format!(
            "{cluster} is in CONFIG_MAP mode; switching to API_AND_CONFIG_MAP is one-way and is not done without {AUTH_MODE_CONSENT}"
        ),
        Some(format!(
            "re-run with {AUTH_MODE_CONSENT} (aws-auth keeps working after the switch), or get in as the creator: `eks-breakglass assume-creator --cluster {cluster}`"
        )),
    ))
}

/// `grant` proves the entry by logging in only when the grantee is the caller's own principal
/// (another principal's credentials are not ours).
pub fn grant_verifies(caller_principal: Option<&str>, principal: &str) -> bool {
    caller_principal == Some(principal)
}

/// `grant`'s exit once the entry is in place: a grantee that is not let in (yet) is a failure
/// that names how to wait longer or look.
pub fn grant_result(
    v: Option<&crate::ports::kube::Verification>,
    cluster: &str,
    principal: &str,
) -> Result<u8, AppError> {
    use crate::ports::kube::Verification;
    match v {
        Some(Verification::Authenticated { .. }) | None => Ok(crate::exit::OK),
        Some(Verification::Interrupted) => Err(AppError::Interrupted),
        Some(v) => Err(AppError::failed(
            format!("the access entry is in place but {}", v.describe()),
            Some(format!(
                "access entries can take a minute to propagate: retry with --wait 180, or check `aws eks describe-access-entry --cluster-name {cluster} --principal-arn {principal}`"
            )),
        )),
    }
}

/// What `assume-creator` checks before any change.
#[derive(Debug, Clone)]
pub struct CreatorChecks<'a> {
    pub mfa_given: bool,
    pub require_mfa: bool,
    pub dry_run: bool,
    pub keep: bool,
    pub credentials_file: Option<&'a std::path::Path>,
    pub print_env: bool,
}

/// Everything refused before any change on `route` (MFA the route needs, a kept key nobody
/// would have the secret of, a credentials file that cannot be written — `writable` checks
/// it), and whether the run keeps its temporary key.
pub fn before_change(
    route: &Route,
    status: Option<&PrincipalStatus>,
    c: &CreatorChecks<'_>,
    writable: impl FnOnce(&std::path::Path) -> Result<(), String>,
) -> Result<bool, AppError> {
    refuse_before_change(route, status, c.mfa_given, c.require_mfa, c.dry_run)?;
    let key_route = is_key_route(route);
    let file = c.credentials_file.is_some();
    check_handover(c.keep, key_route, file, c.print_env)?;
    if let Some(path) = c.credentials_file {
        writable(path).map_err(|e| {
            AppError::usage(
                format!(
                    "--credentials-file {}: {e}; nothing was changed",
                    path.display()
                ),
                Some("choose a --credentials-file path in a directory you can write".to_string()),
            )
        })?;
    }
    Ok(keeps_key(c.keep, key_route, file, c.print_env))
}

/// The journaled plan of the creator route, with the note that a trust statement names the
/// whole role when the operator acts through one of its sessions.
pub fn creator_plan(
    route: &Route,
    facts: &crate::cluster::ClusterFacts,
    region: &str,
    caller: &str,
    operator: &str,
    require_mfa: bool,
    keep: bool,
) -> Result<crate::recovery::plan::Plan, AppError> {
    let mut plan = getin::assume_creator_plan(
        route,
        &facts.name,
        region,
        &getin::GetInOptions {
            operator_arn: operator.to_string(),
            require_mfa,
            keep,
            cluster_arn: facts.arn.clone(),
            run_id: crate::recovery::journal::new_run_id(chrono::Utc::now()),
        },
    )
    .map_err(|e| AppError::failed(e, None))?;
    if matches!(route, Route::PatchTrust { .. })
        && let Some(n) = getin::session_scope_note(
            caller,
            operator,
            "the trust statement on the creator role",
            &facts.name,
        )
    {
        plan.notes.push(n);
    }
    Ok(plan)
}

#[cfg(test)]
#[path = "getin/decisions_tests.rs"]
mod decisions_tests;
