//! The `migrate` use case: off aws-auth onto access entries, in two separately consented stages.
//!
//! Stage one ([`prepare`] without `switch_to_api`): read the live aws-auth as EKS reads it,
//! resolve every principal it names through IAM (an entry needs the role's real ARN, path
//! included), translate, and plan the one-way switch to API_AND_CONFIG_MAP plus the entries;
//! aws-auth keeps working throughout and is never written. After the command applied the plan,
//! [`verify`] logs in as the operator and each `--verify-as` role and compares every other
//! translated identity's entry with what aws-auth gave. Stage two ([`prepare`] with
//! `switch_to_api`) re-checks every entry and plans the switch to API only when no translated
//! identity would lose access; what cannot be translated is named in that plan.
//!
//! The decisions (what to resolve, which consent is missing, what blocks the switch) are made
//! here and in `recovery::migrate`; the world is reached only through [`MigrateWorld`].

use crate::awsauth::principal::{ArnShape, canonicalize_caller, classify};
use crate::awsauth::{AwsAuthDocument, ClusterFacts, analyze};
use crate::ports::migrate::{ClusterView, Login, LoginAs, MigrateWorld, PortError, PrincipalKind};
use crate::recovery::migrate::{
    self as m, Check, EntrySpec, GAIN_CONSENT, LiveEntry, MODE_CONSENT, Resolved, Translation,
};
use crate::recovery::plan::Plan;
use serde::Serialize;

/// The consent flag accepting, by name, what an identity loses at the switch to API.
pub const LOSS_CONSENT: &str = "--allow-access-loss";

/// What the operator asked for.
#[derive(Debug, Clone, Default)]
pub struct MigrateOptions {
    /// Stage two: API_AND_CONFIG_MAP → API.
    pub switch_to_api: bool,
    /// The modes named by `--allow-auth-mode-change`.
    pub mode_consent: Vec<String>,
    /// Identities named by `--allow-access-gain`.
    pub allow_access_gain: Vec<String>,
    /// Roles to log in as after the change (`--verify-as`).
    pub verify_as: Vec<String>,
    /// Identities named by `--allow-access-loss`: what they lose at the switch to API is
    /// accepted (a principal ARN, or an account id for a mapAccounts line).
    pub allow_access_loss: Vec<String>,
    /// `--force`: switch to API even though identities lose access (all of them accepted).
    pub force: bool,
}

/// Why the plan must not be applied as asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    /// No aws-auth: nothing to migrate.
    NoAwsAuth,
    /// The cluster is in API mode already.
    AlreadyApi,
    /// `--switch-to-api` on a CONFIG_MAP cluster: stage one first.
    StageOneFirst,
    /// A one-way switch without the consent naming its mode.
    ModeConsent { mode: String },
    /// NEW access without a consent naming it: (identity, line).
    AccessGain { gains: Vec<(String, String)> },
    /// Stage two: identities that would lose access at the switch.
    WouldLoseAccess { identities: Vec<String> },
    /// Stage two: what identities lose at the switch to API (a group or username an entry
    /// cannot keep, or all access: mapAccounts, lines no entry can express), not accepted by a
    /// consent naming each (or `--force`): (identity, line).
    AccessLoss { losses: Vec<(String, String)> },
}

impl Refusal {
    pub fn describe(&self, cluster: &str) -> (String, String) {
        match self {
            Refusal::NoAwsAuth => (
                format!("{cluster} has no kube-system/aws-auth: there is nothing to migrate"),
                format!(
                    "give identities access with access entries directly (`eks-breakglass grant --cluster {cluster} --principal ARN`)"
                ),
            ),
            Refusal::AlreadyApi => (
                format!("{cluster} is in API mode already: EKS reads no aws-auth"),
                "nothing to migrate; `eks-breakglass audit` lists its access entries".into(),
            ),
            Refusal::StageOneFirst => (
                format!(
                    "{cluster} is in CONFIG_MAP mode: its identities have no access entries yet, so switching to API would lock everyone out"
                ),
                format!(
                    "run stage one first: `eks-breakglass migrate --cluster {cluster} {MODE_CONSENT} API_AND_CONFIG_MAP`"
                ),
            ),
            Refusal::ModeConsent { mode } => (
                format!(
                    "the plan switches {cluster}'s authentication mode to {mode}, which EKS cannot undo, and that is not done without {MODE_CONSENT} {mode}"
                ),
                format!(
                    "re-run with {MODE_CONSENT} {mode} once you accept it (see the plan above)"
                ),
            ),
            Refusal::AccessGain { gains } => (
                format!(
                    "the translation gives NEW access that aws-auth never gave, and --yes alone never approves that; nothing was changed. Still needing consent:\n{}",
                    gains
                        .iter()
                        .map(|(_, l)| format!("  {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                format!(
                    "re-run with {} if this is meant, or fix the aws-auth line first",
                    gains
                        .iter()
                        .map(|(i, _)| format!("{GAIN_CONSENT} {i}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            ),
            Refusal::AccessLoss { losses } => (
                format!(
                    "switching {cluster} to API takes access away, and --yes alone never approves that; nothing was changed. Losing at the switch:\n{}",
                    losses
                        .iter()
                        .map(|(i, l)| format!("  {i}: {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                format!(
                    "give them entries first, or accept each loss by name: {} (or --force to accept every loss)",
                    losses
                        .iter()
                        .map(|(i, _)| format!("{LOSS_CONSENT} {i}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            ),
            Refusal::WouldLoseAccess { identities } => (
                format!(
                    "not switching {cluster} to API: these translated identities would lose access, because their access entry is missing or gives less than aws-auth:\n{}",
                    identities
                        .iter()
                        .map(|i| format!("  {i}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                format!(
                    "run stage one again (`eks-breakglass migrate --cluster {cluster}`) to create what is missing, or fix the entries, then retry"
                ),
            ),
        }
    }
}

/// The plan and everything it was made from.
#[derive(Debug, Clone, Serialize)]
pub struct Prepared {
    #[serde(skip)]
    pub cluster: ClusterView,
    pub auth_mode: String,
    pub translation: Translation,
    pub plan: Plan,
    /// Stage two: the entry checks the switch was decided on.
    pub checks: Vec<IdentityCheck>,
    pub refusals: Vec<Refusal>,
}

/// One translated identity compared with its live entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityCheck {
    pub identity: String,
    pub principal_arn: String,
    pub source: String,
    pub check: Check,
}

/// One login after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginCheck {
    /// `operator` or the --verify-as role.
    pub who: String,
    /// Whether it got in with what the translation promised.
    pub ok: bool,
    pub detail: String,
}

/// What the verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct VerifyReport {
    pub logins: Vec<LoginCheck>,
    pub checks: Vec<IdentityCheck>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.logins.iter().all(|l| l.ok) && self.checks.iter().all(|c| !c.check.loses_access())
    }

    pub fn lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .logins
            .iter()
            .map(|l| {
                format!(
                    "login as {}: {} — {}",
                    l.who,
                    if l.ok { "ok" } else { "FAILED" },
                    l.detail
                )
            })
            .collect();
        v.extend(
            self.checks
                .iter()
                .map(|c| format!("{} ({}): {}", c.principal_arn, c.source, c.check.describe())),
        );
        v
    }
}

/// The principals aws-auth names, resolved through IAM: a role written without a path is the
/// IAM role of that name (whatever its path: IAM Identity Center roles live under
/// `aws-reserved/sso.amazonaws.com/`); one written with a path, and every user, must be exactly
/// that ARN (compared as the authenticator does, case-insensitively).
///
/// Only principals of `account` (the operator's, whose IAM the adapter reads) are looked up: IAM
/// answers by name, and a same-named role of this account is not the other account's role. The
/// others stay out of the map, which the translation reads as "another account". A user is
/// returned with the path IAM has, so the translation can say when aws-auth's path differs.
async fn resolve<W: MigrateWorld>(
    w: &W,
    t: &crate::awsauth::EffectiveMapping,
    account: &str,
) -> Result<Resolved, PortError> {
    let mut out = Resolved::new();
    let roles = t.roles.iter().filter(|r| !r.arn.is_empty()).map(|r| &r.arn);
    let users = t.users.iter().map(|u| &u.arn);
    for arn in roles.chain(users) {
        let key = arn.to_ascii_lowercase();
        if out.contains_key(&key) {
            continue;
        }
        let found = match classify(arn) {
            ArnShape::Role {
                account: a,
                path,
                name,
                ..
            } => {
                if a != account {
                    continue;
                }
                w.principal_arn(PrincipalKind::Role, &name)
                    .await?
                    .filter(|real| path.is_empty() || real.eq_ignore_ascii_case(arn))
            }
            ArnShape::User { account: a } => {
                if a != account {
                    continue;
                }
                let name = arn.rsplit('/').next().unwrap_or_default();
                w.principal_arn(PrincipalKind::User, name).await?
            }
            _ => None,
        };
        out.insert(key, found);
    }
    Ok(out)
}

/// Reads the world, translates, plans, and says what is missing to apply.
pub async fn prepare<W: MigrateWorld>(w: &W, o: &MigrateOptions) -> Result<Prepared, PortError> {
    let cluster = w.cluster().await?;
    let mode = cluster.auth_mode.clone();
    let mut refusals = Vec::new();
    if mode == "API" {
        refusals.push(Refusal::AlreadyApi);
    }
    if o.switch_to_api && mode == "CONFIG_MAP" {
        refusals.push(Refusal::StageOneFirst);
    }
    let aws_auth = w.aws_auth().await?;
    if aws_auth.is_none() && !o.switch_to_api {
        refusals.push(Refusal::NoAwsAuth);
    }
    let node_roles = w.node_roles().await?;
    let doc = AwsAuthDocument::from_data(
        "kube-system/aws-auth",
        aws_auth.map(|a| a.data).unwrap_or_default(),
    );
    let analysis = analyze(
        &doc,
        &ClusterFacts {
            node_roles: node_roles.clone(),
        },
    );
    let account = m::principal_account(&cluster.caller_arn)
        .unwrap_or_default()
        .to_string();
    let resolved = resolve(w, &analysis.effective, &account).await?;
    let existing = if mode == "CONFIG_MAP" {
        None
    } else {
        Some(w.access_entries().await?)
    };
    let translation = m::translate(&m::MigrateFacts {
        partition: &cluster.partition,
        mapping: &analysis.effective,
        resolved: &resolved,
        node_roles: &node_roles,
        existing: existing.as_deref(),
        allow_access_gain: &o.allow_access_gain,
    });
    let mut checks = Vec::new();
    let plan = if o.switch_to_api {
        checks = compare(&translation, existing.as_deref().unwrap_or_default());
        let losing: Vec<String> = checks
            .iter()
            .filter(|c| c.check.loses_access())
            .map(|c| format!("{} ({}): {}", c.principal_arn, c.source, c.check.describe()))
            .collect();
        if !losing.is_empty() {
            refusals.push(Refusal::WouldLoseAccess { identities: losing });
        }
        m::switch_plan(&translation, &cluster.name, &cluster.region)
    } else {
        let gains = translation.unconsented_gains();
        if !gains.is_empty() {
            refusals.push(Refusal::AccessGain { gains });
        }
        m::plan(&translation, &cluster.name, &cluster.region, &mode)
    };
    for s in &plan.steps {
        if let crate::recovery::plan::Action::SwitchAuthMode { to, .. } = &s.action
            && !o.mode_consent.iter().any(|c| c == to)
        {
            refusals.push(Refusal::ModeConsent { mode: to.clone() });
        }
    }
    if o.switch_to_api {
        // Predicted losses at the switch: each needs a consent naming it (or --force).
        let losses: Vec<(String, String)> = translation
            .switch_losses()
            .into_iter()
            .filter(|(who, _)| {
                !o.force
                    && !o
                        .allow_access_loss
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(who))
            })
            .collect();
        if !losses.is_empty() {
            refusals.push(Refusal::AccessLoss { losses });
        }
    }
    Ok(Prepared {
        cluster,
        auth_mode: mode,
        translation,
        plan,
        checks,
        refusals,
    })
}

/// Every translated identity's live entry compared with what it should be.
pub fn compare(t: &Translation, live: &[LiveEntry]) -> Vec<IdentityCheck> {
    t.rows
        .iter()
        .filter_map(|r| {
            let want = r.wanted()?;
            Some(IdentityCheck {
                identity: r.identity.clone(),
                principal_arn: want.principal_arn.clone(),
                source: r.source.clone(),
                check: m::check_entry(
                    want,
                    live.iter().find(|e| e.principal_arn == want.principal_arn),
                ),
            })
        })
        .collect()
}

/// The translated entry of the identity behind `arn` (a user ARN, a role ARN or a session).
fn entry_of<'a>(t: &'a Translation, arn: &str) -> Option<&'a EntrySpec> {
    let canon = canonicalize_caller(arn).unwrap_or_else(|| arn.to_string());
    let name_of = |a: &str| a.rsplit('/').next().unwrap_or(a).to_ascii_lowercase();
    t.rows.iter().filter_map(|r| r.wanted()).find(|e| {
        if canon.contains(":role/") && e.principal_arn.contains(":role/") {
            name_of(&e.principal_arn) == name_of(&canon)
        } else {
            e.principal_arn.eq_ignore_ascii_case(&canon)
        }
    })
}

/// Groups only aws-auth (or the creator's implicit admin) can give: an access entry may not
/// name a `system:` group, so a login that shows one was not answered by the STANDARD entry.
fn aws_auth_groups(groups: &[String]) -> Vec<&str> {
    groups
        .iter()
        .map(String::as_str)
        .filter(|g| {
            *g != "system:authenticated" && m::RESERVED_PREFIXES.iter().any(|p| g.starts_with(p))
        })
        .collect()
}

/// Whether a login is the entry's answer (or a final one): what verification waits for.
fn settled(want: Option<&EntrySpec>, login: &Login) -> bool {
    match (login, want) {
        (Login::In { groups, .. }, Some(e)) if e.entry_type == m::EntryType::Standard => {
            aws_auth_groups(groups).is_empty()
        }
        _ => true,
    }
}

/// Judges a login against the entry the translation made for that identity.
pub fn judge_login(
    who: &str,
    want: Option<&EntrySpec>,
    partition: &str,
    login: &Login,
) -> LoginCheck {
    let (ok, detail) = match (login, want) {
        (Login::Refused, _) => (
            false,
            "refused (401): this identity no longer gets in".into(),
        ),
        (Login::Failed(e), _) => (false, format!("could not log in: {e}")),
        (
            Login::In {
                username, groups, ..
            },
            None,
        ) => (
            true,
            format!(
                "got in as {username}, groups [{}] (no aws-auth line translated for it: not compared)",
                groups.join(", ")
            ),
        ),
        (
            Login::In {
                username, groups, ..
            },
            Some(e),
        ) if e.entry_type == m::EntryType::Standard && !aws_auth_groups(groups).is_empty() => (
            false,
            format!(
                "got in as {username}, but with [{}], which only aws-auth gives: its access entry did not answer (not in effect yet: retry with a longer --wait)",
                aws_auth_groups(groups).join(", ")
            ),
        ),
        (
            Login::In {
                username,
                groups,
                admin,
            },
            Some(e),
        ) => {
            let mut missing = Vec::new();
            let template = e
                .username
                .clone()
                .unwrap_or_else(|| m::default_username(&e.principal_arn));
            if e.entry_type == m::EntryType::Standard && !m::username_fits(&template, username) {
                missing.push(format!("username {username} does not fit {template}"));
            }
            for g in &e.groups {
                if !groups.contains(g) {
                    missing.push(format!("group {g} missing"));
                }
            }
            if e.policies.contains(&m::admin_policy(partition)) && !admin {
                missing.push("not cluster admin (AmazonEKSClusterAdminPolicy expected)".into());
            }
            if missing.is_empty() {
                (
                    true,
                    format!(
                        "got in as {username}, groups [{}]{}",
                        groups.join(", "),
                        if *admin { ", cluster admin" } else { "" }
                    ),
                )
            } else {
                (
                    false,
                    format!("got in as {username} but {}", missing.join("; ")),
                )
            }
        }
    };
    LoginCheck {
        who: who.to_string(),
        ok,
        detail,
    }
}

/// After stage one (or two): log in as the operator and each `--verify-as` role, and compare
/// every translated identity's entry with what aws-auth gave.
pub async fn verify<W: MigrateWorld>(
    w: &W,
    p: &Prepared,
    o: &MigrateOptions,
) -> Result<VerifyReport, PortError> {
    let live = w.access_entries().await?;
    let mut report = VerifyReport {
        checks: compare(&p.translation, &live),
        logins: Vec::new(),
    };
    let want = entry_of(&p.translation, &p.cluster.caller_arn);
    let operator = w.login(&LoginAs::Operator, |l| settled(want, l)).await;
    report.logins.push(judge_login(
        &format!("the operator ({})", p.cluster.caller_arn),
        want,
        &p.cluster.partition,
        &operator,
    ));
    for role in &o.verify_as {
        let want = entry_of(&p.translation, role);
        let login = w
            .login(&LoginAs::Role(role.clone()), |l| settled(want, l))
            .await;
        report
            .logins
            .push(judge_login(role, want, &p.cluster.partition, &login));
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
