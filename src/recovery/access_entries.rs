//! Access entries as EKS really applies them: which ones are stale, which aws-auth mappings they
//! shadow, which ones AWS manages itself, and what an audit should say about them. Pure: the
//! adapter `crate::aws::entries_read` gathers the facts, this module decides.
//!
//! Why this exists: access entries bring their own lockouts.
//! - **Stale entries.** EKS binds an entry to the principal's unique id when it is made. "If you
//!   don't delete the access entry and ever recreate the IAM principal, even if it has the same
//!   ARN, the access entry won't work" (EKS API reference, `AccessEntry.principalArn`). Nothing in
//!   DescribeAccessEntry says so — the entry looks fine and the principal gets 401
//!   (aws/containers-roadmap#2441, terraform-aws-modules/terraform-aws-eks#3329). The entry API
//!   never shows the bound id, so the evidence is the dates: an entry made before its
//!   principal's `CreateDate` was made for an earlier principal of that ARN. Where the bound id
//!   is known from elsewhere (the creator's CloudTrail record), it is compared too.
//! - **Shadowing.** "Access entries take precedence over ConfigMap entries for the same IAM
//!   principal" (EKS User Guide, "Migrating existing aws-auth ConfigMap entries to access
//!   entries"): an aws-auth mapping for a principal with an entry is not what that principal
//!   gets. Editing it changes nothing, which is what an operator must be told before relying on it.
//! - **The fix of a stale entry** is to make it again, bound to the principal as it is now, with
//!   the same type, username, groups and policies (scopes included). That gives access to a
//!   principal that has none today, so it is an access gain: shown, and consented by name.

use super::audit::{Assessment, Finding, Level, Path};
use super::plan::{Action, EntryContent, Plan, PolicyScope, Undo};
use crate::awsauth::model::EffectiveMapping;
use crate::cluster::AuthMode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The access policy that makes a principal cluster admin.
pub const CLUSTER_ADMIN_POLICY: &str = "AmazonEKSClusterAdminPolicy";

/// The flag that approves giving access back to a named principal.
pub const ACCESS_GAIN_FLAG: &str = "--allow-access-gain";

/// Where an access policy applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AccessScope {
    Cluster,
    Namespace { namespaces: Vec<String> },
}

impl std::fmt::Display for AccessScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AccessScope::Cluster => write!(f, "cluster"),
            AccessScope::Namespace { namespaces } => {
                write!(f, "namespaces {}", namespaces.join(","))
            }
        }
    }
}

/// One access policy associated with an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Association {
    pub policy_arn: String,
    pub scope: AccessScope,
}

impl Association {
    /// The policy's short name (`AmazonEKSViewPolicy`).
    pub fn name(&self) -> &str {
        self.policy_arn
            .rsplit('/')
            .next()
            .unwrap_or(&self.policy_arn)
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.name(), self.scope)
    }
}

/// An access entry as DescribeAccessEntry + ListAssociatedAccessPolicies show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryView {
    pub principal_arn: String,
    /// STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, EC2, …
    pub entry_type: String,
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub entry_arn: Option<String>,
    pub policies: Vec<Association>,
}

impl EntryView {
    /// True when the entry makes its principal cluster admin.
    pub fn is_cluster_admin(&self) -> bool {
        self.policies
            .iter()
            .any(|p| p.name() == CLUSTER_ADMIN_POLICY && p.scope == AccessScope::Cluster)
    }
}

/// The principal of an entry, as IAM shows it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PrincipalNow {
    Exists {
        unique_id: Option<String>,
        created: Option<DateTime<Utc>>,
    },
    Deleted,
    /// IAM could not be asked (refused, or not an IAM user/role): why.
    Unknown {
        why: String,
    },
}

/// What an entry does today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EntryState {
    /// Bound to the principal that exists now (as far as the evidence goes).
    Live,
    /// Made for an earlier principal of the same ARN: lets nobody in. `cause` says why.
    Stale { cause: String },
    /// Its principal no longer exists: lets nobody in until someone recreates it — and then
    /// still nobody, because the new principal gets a new unique id.
    PrincipalDeleted,
    /// Could not be judged (why).
    Unknown { why: String },
}

/// Why an entry made at `entry_made` for a principal created at `principal_created` is stale,
/// or `None` when it is not (or the dates are not known). One wording for every command —
/// `grant`'s own stale-entry check included.
pub fn stale_reason(
    principal_arn: &str,
    entry_made: Option<DateTime<Utc>>,
    principal_created: Option<DateTime<Utc>>,
    groups: &[String],
) -> Option<String> {
    let (made, created) = (entry_made?, principal_created?);
    (created > made).then(|| {
        format!(
            "the access entry for {principal_arn} was made {} but the principal was created {}: it \
             was deleted and recreated since, and EKS binds an entry to the principal's unique \
             id, so this entry lets nobody in (groups it had: {})",
            made.to_rfc3339(),
            created.to_rfc3339(),
            if groups.is_empty() {
                "none".to_string()
            } else {
                groups.join(", ")
            }
        )
    })
}

/// Judges one entry. `bound_id` is the unique id the entry is known to be bound to, when some
/// other record says it (the creator's CloudTrail record for the creator's entry).
pub fn judge(entry: &EntryView, now: &PrincipalNow, bound_id: Option<&str>) -> EntryState {
    match now {
        PrincipalNow::Deleted => EntryState::PrincipalDeleted,
        PrincipalNow::Unknown { why } => EntryState::Unknown { why: why.clone() },
        PrincipalNow::Exists { unique_id, created } => {
            if let Some(why) = stale_reason(
                &entry.principal_arn,
                entry.created_at,
                *created,
                &entry.kubernetes_groups,
            ) {
                return EntryState::Stale { cause: why };
            }
            if let (Some(bound), Some(current)) = (bound_id, unique_id.as_deref())
                && bound != current
            {
                return EntryState::Stale {
                    cause: format!(
                        "the access entry for {} is bound to unique id {bound}, but the principal \
                         with that ARN now has unique id {current}: it was deleted and recreated, \
                         and EKS matches entries by unique id, so this entry lets nobody in",
                        entry.principal_arn
                    ),
                };
            }
            if entry.created_at.is_none() {
                return EntryState::Unknown {
                    why: "EKS did not say when the entry was made".into(),
                };
            }
            EntryState::Live
        }
    }
}

/// Why AWS manages an entry itself, or `None`. Those are never flagged as findings of their
/// own: EKS made them (service-linked roles; node and Fargate entries of the cluster's managed
/// node groups and Fargate profiles, EKS User Guide "Migrating existing aws-auth ConfigMap
/// entries": "entries that were created by Amazon EKS for managed node group or a Fargate
/// profile"). A stale one still breaks its nodes (terraform-aws-eks#3329), so staleness is
/// reported for node entries too — but not for service-linked roles, which IAM does not let
/// anyone delete while EKS uses them.
pub fn aws_managed(entry: &EntryView, managed_node_roles: &[String]) -> Option<&'static str> {
    if entry.principal_arn.contains(":role/aws-service-role/") {
        return Some("an AWS service-linked role");
    }
    let node_type = matches!(
        entry.entry_type.as_str(),
        "EC2_LINUX" | "EC2_WINDOWS" | "FARGATE_LINUX" | "EC2" | "HYBRID_LINUX"
    );
    (node_type
        && managed_node_roles
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&entry.principal_arn)))
    .then_some("made by EKS for a managed node group or Fargate profile")
}

/// One entry, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JudgedEntry {
    pub entry: EntryView,
    pub state: EntryState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_managed: Option<&'static str>,
}

impl JudgedEntry {
    pub fn is_stale(&self) -> bool {
        matches!(self.state, EntryState::Stale { .. })
    }
}

/// The fix of stale entries: for each, delete it and make it again, bound to the principal as it
/// is now, with the same type, username, groups and policies (with their scopes).
pub fn fix_plan(cluster: &str, region: &str, stale: &[&JudgedEntry]) -> Plan {
    let mut plan = Plan::new("fix-entries", cluster, region);
    for j in stale {
        let e = &j.entry;
        let p = &e.principal_arn;
        let EntryState::Stale { cause } = &j.state else {
            continue;
        };
        let content = entry_content(e);
        plan.notes.push(format!(
            "ACCESS CHANGE: {p} has no access today (its entry is stale); after this run it gets \
             what the stale entry gave: {}. Approve with {ACCESS_GAIN_FLAG} {p}",
            grants(e)
        ));
        plan.push(
            format!("delete the stale access entry for {p}"),
            cause.clone(),
            Action::DeleteAccessEntry {
                cluster: cluster.to_string(),
                principal_arn: p.clone(),
                expect_entry_arn: e.entry_arn.clone(),
                expect_created_at: e.created_at.map(|t| t.to_rfc3339()),
            },
            // A run cut off after this delete (kill -9, a denied CreateAccessEntry) must not
            // lose the entry's content: its undo makes the entry again from the journal, as the
            // plan showed it (the access gain consented for this run), and only when there is
            // no entry for the principal — so it never touches an entry made since.
            Undo::RecreateAccessEntry {
                cluster: cluster.to_string(),
                principal_arn: p.clone(),
                content: content.clone(),
            },
        );
        let step = plan.push(
            format!("create the {} access entry for {p} again", e.entry_type),
            "bound to the principal as it is now, with the stale entry's type, username and groups",
            Action::CreateAccessEntryLike {
                cluster: cluster.to_string(),
                principal_arn: p.clone(),
                entry_type: e.entry_type.clone(),
                username: e.username.clone(),
                kubernetes_groups: e.kubernetes_groups.clone(),
            },
            Undo::DeleteAccessEntry {
                cluster: cluster.to_string(),
                principal_arn: p.clone(),
                made: Some(content),
                entry_arn: None,
            },
        );
        step.consent = Some(format!("{ACCESS_GAIN_FLAG} {p}"));
        for a in &e.policies {
            let namespaces = match &a.scope {
                AccessScope::Cluster => Vec::new(),
                AccessScope::Namespace { namespaces } => namespaces.clone(),
            };
            plan.push(
                format!("associate {} with {} scope again", a.name(), a.scope),
                "the stale entry had it",
                Action::AssociateAccessPolicyScoped {
                    cluster: cluster.to_string(),
                    principal_arn: p.clone(),
                    policy_arn: a.policy_arn.clone(),
                    namespaces,
                },
                Undo::DisassociateAccessPolicy {
                    cluster: cluster.to_string(),
                    principal_arn: p.clone(),
                    policy_arn: a.policy_arn.clone(),
                    entry_arn: None,
                },
            );
        }
    }
    plan.then.push(
        "new entries take effect after EKS propagates them (seconds); log in as each principal \
         to check"
            .into(),
    );
    plan
}

/// The entry's content as the journal keeps it (type, username, groups, policies and scopes).
pub fn entry_content(e: &EntryView) -> EntryContent {
    EntryContent {
        entry_type: e.entry_type.clone(),
        username: e.username.clone(),
        kubernetes_groups: e.kubernetes_groups.clone(),
        policies: e
            .policies
            .iter()
            .map(|a| PolicyScope {
                policy_arn: a.policy_arn.clone(),
                namespaces: match &a.scope {
                    AccessScope::Cluster => Vec::new(),
                    AccessScope::Namespace { namespaces } => namespaces.clone(),
                },
            })
            .collect(),
    }
}

/// What an entry grants, in one line.
pub fn grants(e: &EntryView) -> String {
    let mut parts = vec![format!(
        "username {}",
        e.username.as_deref().unwrap_or("(EKS's default)")
    )];
    parts.push(if e.kubernetes_groups.is_empty() {
        "no groups".into()
    } else {
        format!("groups {}", e.kubernetes_groups.join(", "))
    });
    parts.push(if e.policies.is_empty() {
        "no access policies".into()
    } else {
        format!(
            "policies {}",
            e.policies
                .iter()
                .map(Association::describe)
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    parts.join("; ")
}

/// The principals a consent list does not cover (each needs `--allow-access-gain ARN`).
pub fn unconsented<'a>(stale: &[&'a JudgedEntry], allowed: &[String]) -> Vec<&'a str> {
    stale
        .iter()
        .map(|j| j.entry.principal_arn.as_str())
        .filter(|p| !allowed.iter().any(|a| a.eq_ignore_ascii_case(p)))
        .collect()
}

/// An aws-auth mapping that an access entry overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shadow {
    /// `mapRoles` or `mapUsers`.
    pub section: &'static str,
    /// The ARN as aws-auth writes it.
    pub mapping_arn: String,
    pub line: usize,
    pub aws_auth_username: String,
    pub aws_auth_groups: Vec<String>,
    /// The entry's principal (with its path).
    pub entry_principal: String,
    /// What the principal really gets: the entry's username, groups and policies.
    pub really_gets: String,
    /// A stale entry matches nobody: the principal falls back to aws-auth only in the sense
    /// that EKS's precedence is for entries that match — told, not assumed.
    pub entry_stale: bool,
}

impl Shadow {
    pub fn describe(&self) -> String {
        let base = format!(
            "{} line {} ({} -> {} [{}]) is shadowed by the access entry for {}",
            self.section,
            self.line,
            self.mapping_arn,
            self.aws_auth_username,
            self.aws_auth_groups.join(", "),
            self.entry_principal
        );
        if self.entry_stale {
            format!(
                "{base}; that entry is STALE (bound to an earlier principal of this ARN): check \
                 by logging in which of the two answers"
            )
        } else {
            format!(
                "{base}: EKS uses the entry, so this mapping changes nothing; the principal \
                 really gets {}",
                self.really_gets
            )
        }
    }
}

/// (account, kind, name) of an IAM ARN, lower-cased, ignoring a role's path (aws-auth role ARNs
/// match without the path, STS never shows it).
fn identity_key(arn: &str) -> Option<(String, &'static str, String)> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if service != "iam" {
        return None;
    }
    if let Some(rest) = resource.strip_prefix("role/") {
        let name = rest.rsplit('/').next()?;
        Some((account.to_string(), "role", name.to_ascii_lowercase()))
    } else {
        let rest = resource.strip_prefix("user/")?;
        Some((account.to_string(), "user", rest.to_ascii_lowercase()))
    }
}

/// True when an aws-auth role ARN as written carries a path (it never matches: the
/// authenticator compares with the path-less ARN STS reports).
fn role_arn_has_path(arn: &str) -> bool {
    arn.split_once(":role/")
        .is_some_and(|(_, rest)| rest.contains('/'))
}

/// The aws-auth mappings an entry overrides. Only API_AND_CONFIG_MAP reads both; in
/// CONFIG_MAP there are no entries, in API aws-auth is not read at all.
pub fn shadowing(
    mode: AuthMode,
    mapping: &EffectiveMapping,
    entries: &[JudgedEntry],
) -> Vec<Shadow> {
    if mode != AuthMode::ApiAndConfigMap {
        return Vec::new();
    }
    let find = |arn: &str, kind: &str| {
        let key = identity_key(arn)?;
        entries.iter().find(|j| {
            identity_key(&j.entry.principal_arn).is_some_and(|k| {
                k.0 == key.0
                    && k.1 == key.1
                    && if kind == "user" {
                        // users keep their path: the whole resource must match
                        j.entry.principal_arn.eq_ignore_ascii_case(arn)
                    } else {
                        k.2 == key.2
                    }
            })
        })
    };
    let mut out = Vec::new();
    for r in mapping.active_roles() {
        if r.arn.is_empty() || r.never_matches().is_some() || role_arn_has_path(&r.arn) {
            continue;
        }
        if let Some(j) = find(&r.arn, "role") {
            out.push(shadow(
                "mapRoles",
                &r.arn,
                r.line,
                &r.username,
                &r.groups,
                j,
            ));
        }
    }
    for u in mapping.active_users() {
        if u.never_matches().is_some() {
            continue;
        }
        if let Some(j) = find(&u.arn, "user") {
            out.push(shadow(
                "mapUsers",
                &u.arn,
                u.line,
                &u.username,
                &u.groups,
                j,
            ));
        }
    }
    out
}

fn shadow(
    section: &'static str,
    arn: &str,
    line: usize,
    username: &str,
    groups: &[String],
    j: &JudgedEntry,
) -> Shadow {
    Shadow {
        section,
        mapping_arn: arn.to_string(),
        line,
        aws_auth_username: username.to_string(),
        aws_auth_groups: groups.to_vec(),
        entry_principal: j.entry.principal_arn.clone(),
        really_gets: grants(&j.entry),
        entry_stale: j.is_stale(),
    }
}

/// Whether becoming the creator can get anyone in, decided from the cluster's access config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatorRoute {
    pub exists: bool,
    pub why: String,
    /// Where to go instead, when it does not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instead: Option<String>,
}

impl CreatorRoute {
    /// The text block when the route does not exist; empty otherwise.
    pub fn render(&self) -> String {
        if self.exists {
            return String::new();
        }
        format!(
            "Creator route: does not exist: {}\n  go straight to {}\n",
            self.why,
            self.instead.as_deref().unwrap_or("the access-entry route")
        )
    }
}

/// `bootstrapClusterCreatorAdminPermissions` false: EKS never gave the creator admin — no
/// implicit `system:masters`, no admin entry ("whether the cluster creator IAM principal was
/// set as a cluster admin access entry", EKS API reference, CreateAccessConfigRequest). Such a
/// cluster is never CONFIG_MAP (EKS refuses that combination), so access entries are honoured
/// and the access-entry route needs no mode switch.
pub fn creator_route(cluster: &str, bootstrap_creator_admin: Option<bool>) -> CreatorRoute {
    if bootstrap_creator_admin == Some(false) {
        CreatorRoute {
            exists: false,
            why: "the cluster was created with bootstrapClusterCreatorAdminPermissions=false: \
                  EKS never made its creator an admin (no implicit system:masters, no admin \
                  access entry), so there is no creator route — becoming the creator gets you \
                  nothing it was not given by an access entry of its own"
                .into(),
            instead: Some(format!(
                "the access-entry route: `eks-breakglass grant --cluster {cluster}` (access \
                 entries are honoured on this cluster: no mode switch)"
            )),
        }
    } else {
        CreatorRoute {
            exists: true,
            why: "the creator was given admin at creation".into(),
            instead: None,
        }
    }
}

/// "Reveal the creator": on a CONFIG_MAP cluster whose creator no record names, switching to
/// API_AND_CONFIG_MAP makes EKS show the creator's implicit admin as an access entry
/// (EKS workshop, "Switching between authentication modes": after the switch
/// `list-access-entries` shows the creator). `None` when it does not apply.
pub fn reveal_creator_route(
    cluster: &str,
    mode: AuthMode,
    bootstrap_creator_admin: Option<bool>,
    creator_known: bool,
) -> Option<String> {
    if mode != AuthMode::ConfigMap || creator_known || bootstrap_creator_admin == Some(false) {
        return None;
    }
    Some(format!(
        "discovery route: no record names the creator of {cluster}. Switching it to \
         API_AND_CONFIG_MAP makes EKS turn the creator's hidden admin into a visible access entry \
         (ListAccessEntries then names it). The trade: the switch is ONE-WAY (never back to \
         CONFIG_MAP); aws-auth keeps working beside access entries, and nobody gains access by \
         it (the creator had admin already) — but the creator's admin becomes an entry that \
         anyone with eks:DeleteAccessEntry can remove. Run: `eks-breakglass reveal-creator --cluster \
         {cluster} --allow-auth-mode-change`"
    ))
}

/// The plan of `reveal-creator`: one step, the one-way switch to API_AND_CONFIG_MAP, which makes
/// EKS show the creator's implicit admin as an access entry.
pub fn reveal_plan(cluster: &str, region: &str) -> Plan {
    let mut plan = Plan::new("reveal-creator", cluster, region);
    plan.notes.push(format!(
        "{cluster} is in CONFIG_MAP mode and no record names its creator. At the switch EKS turns \
         the creator's hidden admin into a visible access entry (AmazonEKSClusterAdminPolicy): \
         ListAccessEntries then names the creator."
    ));
    plan.notes.push(
        "THE TRADE: the switch is ONE-WAY (EKS never goes back to CONFIG_MAP). aws-auth keeps \
         working beside access entries and nobody gains access (the creator was admin already), \
         but the creator's admin becomes an entry that anyone with eks:DeleteAccessEntry can \
         remove — and access entries then take precedence over aws-auth for the same principal"
            .into(),
    );
    let step = plan.push(
        "switch the authentication mode to API_AND_CONFIG_MAP",
        "the creator's admin becomes a visible access entry",
        Action::SwitchAuthMode {
            cluster: cluster.to_string(),
            from: "CONFIG_MAP".into(),
            to: "API_AND_CONFIG_MAP".into(),
        },
        Undo::Irreversible {
            reason: "EKS authentication mode changes are one-way; the creator's entry EKS makes \
                     at the switch is AWS's, not this run's"
                .into(),
        },
    );
    step.consent = Some(super::getin::AUTH_MODE_CONSENT.into());
    plan.then.push(
        "list the access entries: the admin entry EKS made at the switch is the creator's".into(),
    );
    plan
}

/// The creator as the switch revealed it: the admin entries of a cluster that had none before
/// (a CONFIG_MAP cluster has no entries, so every admin entry after the switch is EKS's entry for
/// the creator). `None` when there is not exactly one.
pub fn revealed_creator(entries: &[EntryView]) -> Option<&EntryView> {
    let admins: Vec<&EntryView> = entries.iter().filter(|e| e.is_cluster_admin()).collect();
    match admins.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

/// An audit finding about access entries (code, message, fix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryFinding {
    pub level: Level,
    pub code: &'static str,
    pub message: String,
    pub fix: Option<String>,
}

/// What the audit says about a cluster's access entries. `creator_arn` is the creator when known;
/// `aws_auth_admins` the ARNs aws-auth maps to `system:masters` (only read in CONFIG_MAP and
/// Whether an access entry can shadow an aws-auth mapping: only in API_AND_CONFIG_MAP (no
/// entries in CONFIG_MAP; aws-auth not read in API).
pub fn shadows_possible(mode: AuthMode) -> bool {
    mode == AuthMode::ApiAndConfigMap
}

/// The aws-auth mappings of `mapping` that an entry shadows, described; when the entries could
/// not be read, that is said instead (never silently "nothing shadowed").
pub fn shadow_descriptions(
    mode: AuthMode,
    mapping: &crate::awsauth::model::EffectiveMapping,
    entries: Result<Vec<JudgedEntry>, String>,
) -> Vec<String> {
    if !shadows_possible(mode) {
        return Vec::new();
    }
    match entries {
        Ok(entries) => shadowing(mode, mapping, &entries)
            .iter()
            .map(Shadow::describe)
            .collect(),
        Err(e) => vec![format!(
            "could not check which mappings access entries shadow: {e}"
        )],
    }
}

/// The stale entries a live lint reports: entries of AWS's own service-linked roles are left
/// out (EKS manages them; nobody can fix them).
pub fn lintable_stale(judged: Vec<JudgedEntry>) -> Vec<JudgedEntry> {
    judged
        .into_iter()
        .filter(|j| j.is_stale() && j.aws_managed != Some("an AWS service-linked role"))
        .collect()
}

/// API_AND_CONFIG_MAP; `None` when aws-auth was not read).
pub fn audit_findings(
    cluster: &str,
    region_flag: &str,
    mode: AuthMode,
    entries: &[JudgedEntry],
    creator_arn: Option<&str>,
    aws_auth_admins: Option<&[String]>,
    offered_policies: Option<&[String]>,
) -> Vec<EntryFinding> {
    let mut out = Vec::new();
    if mode == AuthMode::ConfigMap {
        out.push(EntryFinding {
            level: Level::Warning,
            code: "config-map-only",
            message: "authentication mode CONFIG_MAP: access lives only in the hand-edited \
                      aws-auth ConfigMap (deprecated by AWS); one bad edit locks out everyone \
                      but the creator"
                .into(),
            fix: Some(format!(
                "move to access entries: `eks-breakglass migrate --cluster {cluster}{region_flag}`"
            )),
        });
        return out;
    }
    for j in entries.iter().filter(|j| j.is_stale()) {
        if j.aws_managed == Some("an AWS service-linked role") {
            continue;
        }
        if let EntryState::Stale { cause } = &j.state {
            out.push(EntryFinding {
                level: Level::Error,
                code: "stale-access-entry",
                message: cause.clone(),
                fix: Some(format!(
                    "`eks-breakglass fix-entries --cluster {cluster}{region_flag} --allow-access-gain {}`",
                    j.entry.principal_arn
                )),
            });
        }
    }
    for j in entries
        .iter()
        .filter(|j| matches!(j.state, EntryState::PrincipalDeleted) && j.aws_managed.is_none())
    {
        out.push(EntryFinding {
            level: Level::Warning,
            code: "access-entry-principal-deleted",
            message: format!(
                "the access entry for {} names a principal that no longer exists: recreating \
                 that principal will NOT bring the access back (new unique id)",
                j.entry.principal_arn
            ),
            fix: Some(format!(
                "delete it (`aws eks delete-access-entry --cluster-name {cluster} --principal-arn {}`), \
                 or recreate the principal and run `eks-breakglass fix-entries --cluster {cluster}{region_flag}`",
                j.entry.principal_arn
            )),
        });
    }
    // Associations with a policy EKS does not offer (ListAccessPolicies): nothing it grants.
    if let Some(offered) = offered_policies {
        for j in entries {
            for a in &j.entry.policies {
                if !offered.iter().any(|o| o == &a.policy_arn) {
                    out.push(EntryFinding {
                        level: Level::Warning,
                        code: "unknown-access-policy",
                        message: format!(
                            "the access entry for {} has {} associated, which ListAccessPolicies \
                             does not offer",
                            j.entry.principal_arn, a.policy_arn
                        ),
                        fix: None,
                    });
                }
            }
        }
    }
    // Admins that can still get in: live admin entries, plus system:masters in aws-auth where
    // EKS reads it.
    let mut admins: Vec<&str> = entries
        .iter()
        .filter(|j| j.is_cluster_admin_today())
        .map(|j| j.entry.principal_arn.as_str())
        .collect();
    // Where EKS also reads aws-auth and it was not read, its system:masters are not counted:
    // said in the message rather than assumed away.
    let unread = mode.reads_aws_auth() && aws_auth_admins.is_none();
    if mode.reads_aws_auth()
        && let Some(a) = aws_auth_admins
    {
        admins.extend(a.iter().map(String::as_str));
    }
    if let Some(creator) = creator_arn
        && !admins.is_empty()
        && admins.iter().all(|a| same_principal(a, creator))
    {
        out.push(EntryFinding {
            level: if unread { Level::Info } else { Level::Warning },
            code: "only-admin-is-creator",
            message: format!(
                "the only cluster admin{} is the creator {creator}: if its entry is deleted or \
                 the principal recreated, nobody is admin{}",
                if unread { " access entry" } else { "" },
                if unread {
                    " (aws-auth was not read: system:masters mappings there are not counted)"
                } else {
                    ""
                }
            ),
            fix: Some(format!(
                "give a break-glass role its own admin entry: `eks-breakglass grant --cluster \
                 {cluster}{region_flag} --principal ROLE_ARN`"
            )),
        });
    }
    out
}

/// Adds the access-entry findings to an audit verdict. A break-glass entry that is stale lets
/// nobody in: the access-entry path the audit counted does not exist, so the cluster is flagged
/// when nothing else gets in.
pub fn merge_into_assessment(a: &mut Assessment, found: Vec<EntryFinding>, breakglass_stale: bool) {
    if breakglass_stale && a.path == Path::AccessEntry {
        a.breakglass_entry = "stale".into();
        a.path = Path::None;
        a.flagged = true;
        a.findings.insert(
            0,
            Finding {
                level: Level::Error,
                code: "no-breakglass-path",
                message: "the break-glass role's access entry is stale (its role was deleted and \
                          recreated): it lets nobody in"
                    .into(),
                fix: None,
            },
        );
    }
    a.findings.extend(found.into_iter().map(|f| Finding {
        level: f.level,
        code: f.code,
        message: f.message,
        fix: f.fix,
    }));
    a.findings.sort_by_key(|f| std::cmp::Reverse(f.level));
}

impl JudgedEntry {
    /// An admin entry that lets its principal in today.
    pub fn is_cluster_admin_today(&self) -> bool {
        self.entry.is_cluster_admin()
            && matches!(self.state, EntryState::Live | EntryState::Unknown { .. })
    }
}

fn same_principal(a: &str, b: &str) -> bool {
    match (identity_key(a), identity_key(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// What `diagnose` (and `aws-auth lint --cluster`) say about access entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntriesDiagnosis {
    pub entries: Vec<JudgedEntry>,
    pub shadows: Vec<Shadow>,
    pub creator_route: CreatorRoute,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reveal_creator: Option<String>,
    /// Why the entries could not be read, if they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl EntriesDiagnosis {
    pub fn stale(&self) -> impl Iterator<Item = &JudgedEntry> {
        self.entries.iter().filter(|j| j.is_stale())
    }

    /// The text block; empty when there is nothing to say.
    pub fn render(&self, cluster: &str) -> String {
        let mut s = String::new();
        if let Some(e) = &self.error {
            s.push_str(&format!("\nAccess entries: could not be read: {e}\n"));
        }
        let stale: Vec<&JudgedEntry> = self.stale().collect();
        let gone: Vec<&JudgedEntry> = self
            .entries
            .iter()
            .filter(|j| matches!(j.state, EntryState::PrincipalDeleted) && j.aws_managed.is_none())
            .collect();
        if !stale.is_empty() || !gone.is_empty() || !self.shadows.is_empty() {
            s.push_str(&format!(
                "\nAccess entries: {} ({} stale)\n",
                self.entries.len(),
                stale.len()
            ));
        }
        for j in &stale {
            if let EntryState::Stale { cause } = &j.state {
                s.push_str(&format!(
                    "  STALE entry {}: {cause}\n",
                    j.entry.principal_arn
                ));
                s.push_str(&format!(
                    "    it gave: {}\n    fix:     eks-breakglass fix-entries --cluster {cluster} --allow-access-gain {}\n",
                    grants(&j.entry),
                    j.entry.principal_arn
                ));
            }
        }
        for j in &gone {
            s.push_str(&format!(
                "  entry {}: its principal no longer exists: orphaned entry (a user or role of the same name under another path is another ARN and gets nothing from it; recreating the principal will not bring the access back: new unique id)\n",
                j.entry.principal_arn
            ));
        }
        for sh in &self.shadows {
            s.push_str(&format!("  shadowed: {}\n", sh.describe()));
        }
        if !self.creator_route.exists {
            s.push('\n');
            s.push_str(&self.creator_route.render());
        }
        if let Some(r) = &self.reveal_creator {
            s.push_str(&format!("\n{r}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsauth::effective_from_data;
    use chrono::TimeZone;

    const ROLE: &str = "arn:aws:iam::111122223333:role/team/deployer";
    const USER: &str = "arn:aws:iam::111122223333:user/ci-bot";

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0)
            .single()
            .unwrap()
    }

    fn entry(arn: &str, made: u32) -> EntryView {
        EntryView {
            principal_arn: arn.into(),
            entry_type: "STANDARD".into(),
            username: Some("deployer".into()),
            kubernetes_groups: vec!["deployers".into()],
            created_at: Some(t(made)),
            entry_arn: Some("arn:aws:eks:us-east-1:111122223333:access-entry/prod/x".into()),
            policies: vec![
                Association {
                    policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(),
                    scope: AccessScope::Namespace {
                        namespaces: vec!["apps".into()],
                    },
                },
                Association {
                    policy_arn: format!(
                        "arn:aws:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}"
                    ),
                    scope: AccessScope::Cluster,
                },
            ],
        }
    }

    fn exists(created: u32, id: &str) -> PrincipalNow {
        PrincipalNow::Exists {
            unique_id: Some(id.into()),
            created: Some(t(created)),
        }
    }

    fn judged(e: EntryView, state: EntryState) -> JudgedEntry {
        JudgedEntry {
            entry: e,
            state,
            aws_managed: None,
        }
    }

    #[test]
    fn an_entry_older_than_its_principal_is_stale_and_says_why() {
        let s = judge(&entry(ROLE, 1), &exists(5, "AROANEW"), None);
        let EntryState::Stale { cause } = s else {
            panic!("{s:?}")
        };
        assert!(cause.contains(ROLE) && cause.contains("recreated") && cause.contains("deployers"));
        assert_eq!(
            judge(&entry(ROLE, 6), &exists(5, "AROANEW"), None),
            EntryState::Live
        );
    }

    #[test]
    fn a_known_bound_id_that_differs_is_stale_even_with_kind_dates() {
        let s = judge(&entry(ROLE, 6), &exists(5, "AROANEW"), Some("AROAOLD"));
        assert!(matches!(s, EntryState::Stale { ref cause } if cause.contains("AROAOLD")));
        assert_eq!(
            judge(&entry(ROLE, 6), &exists(5, "AROANEW"), Some("AROANEW")),
            EntryState::Live
        );
    }

    #[test]
    fn deleted_and_unknown_principals_are_not_called_live() {
        assert_eq!(
            judge(&entry(ROLE, 1), &PrincipalNow::Deleted, None),
            EntryState::PrincipalDeleted
        );
        let mut e = entry(ROLE, 1);
        e.created_at = None;
        assert!(matches!(
            judge(&e, &exists(5, "X"), None),
            EntryState::Unknown { .. }
        ));
    }

    #[test]
    fn the_fix_recreates_type_username_groups_and_every_scope_and_asks_consent_by_name() {
        let j = judged(entry(ROLE, 1), EntryState::Stale { cause: "c".into() });
        let plan = fix_plan("prod", "us-east-1", &[&j]);
        let actions: Vec<&Action> = plan.steps.iter().map(|s| &s.action).collect();
        assert!(matches!(actions[0], Action::DeleteAccessEntry { .. }));
        assert_eq!(
            actions[1],
            &Action::CreateAccessEntryLike {
                cluster: "prod".into(),
                principal_arn: ROLE.into(),
                entry_type: "STANDARD".into(),
                username: Some("deployer".into()),
                kubernetes_groups: vec!["deployers".into()],
            }
        );
        assert!(
            matches!(actions[2], Action::AssociateAccessPolicyScoped { namespaces, .. } if namespaces == &vec!["apps".to_string()])
        );
        assert!(
            matches!(actions[3], Action::AssociateAccessPolicyScoped { namespaces, .. } if namespaces.is_empty())
        );
        assert_eq!(
            plan.steps[1].consent.as_deref(),
            Some(&*format!("--allow-access-gain {ROLE}"))
        );
        assert!(matches!(plan.steps[1].undo, Undo::DeleteAccessEntry { .. }));
        assert!(plan.notes[0].starts_with("ACCESS CHANGE"));
        // The delete checks it deletes the entry the plan showed, and its undo keeps the
        // content (a run cut off before the create can be finished); the create's undo knows
        // what it made (a rollback refuses an entry added to since).
        assert!(matches!(
            actions[0],
            Action::DeleteAccessEntry {
                expect_entry_arn: Some(_),
                expect_created_at: Some(_),
                ..
            }
        ));
        let Undo::RecreateAccessEntry { content, .. } = &plan.steps[0].undo else {
            panic!("{:?}", plan.steps[0].undo)
        };
        assert_eq!(content, &entry_content(&j.entry));
        assert_eq!(content.policies.len(), 2);
        assert!(plan.steps[0].undo.is_temporary_kind());
        assert!(
            matches!(&plan.steps[1].undo, Undo::DeleteAccessEntry { made: Some(m), .. } if m == content)
        );
        assert_eq!(unconsented(&[&j], &[]), vec![ROLE]);
        assert!(unconsented(&[&j], &[ROLE.to_uppercase()]).is_empty());
    }

    #[test]
    fn an_entry_shadows_the_aws_auth_mapping_of_the_same_role_ignoring_its_path() {
        let m = effective_from_data([
            (
                "mapRoles",
                "- rolearn: arn:aws:iam::111122223333:role/deployer\n  username: old\n  groups: [system:masters]\n",
            ),
            (
                "mapUsers",
                "- userarn: arn:aws:iam::111122223333:user/ci-bot\n  username: bot\n  groups: [x]\n- userarn: arn:aws:iam::111122223333:user/other\n  username: o\n",
            ),
        ]);
        let entries = vec![
            judged(entry(ROLE, 1), EntryState::Live),
            judged(entry(USER, 1), EntryState::Stale { cause: "c".into() }),
        ];
        let s = shadowing(AuthMode::ApiAndConfigMap, &m, &entries);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0].entry_principal, ROLE);
        assert!(
            s[0].describe()
                .contains("really gets username deployer; groups deployers")
        );
        assert!(s[1].entry_stale && s[1].describe().contains("STALE"));
        assert!(shadowing(AuthMode::Api, &m, &entries).is_empty());
        assert!(shadowing(AuthMode::ConfigMap, &m, &entries).is_empty());
    }

    #[test]
    fn aws_managed_entries_are_recognised() {
        let mut e = entry(
            "arn:aws:iam::111122223333:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS",
            1,
        );
        assert!(aws_managed(&e, &[]).is_some());
        e = entry("arn:aws:iam::111122223333:role/nodes", 1);
        e.entry_type = "EC2_LINUX".into();
        assert!(aws_managed(&e, &["arn:aws:iam::111122223333:role/nodes".into()]).is_some());
        assert!(
            aws_managed(&e, &[]).is_none(),
            "a node entry no node group uses is the user's"
        );
    }

    #[test]
    fn audit_flags_config_map_stale_and_creator_only_admin_but_not_managed_entries() {
        let f = audit_findings("prod", "", AuthMode::ConfigMap, &[], None, None, None);
        assert_eq!(f[0].code, "config-map-only");
        let creator = "arn:aws:iam::111122223333:role/creator";
        let mut only = entry(creator, 1);
        only.kubernetes_groups.clear();
        let stale = judged(
            entry(USER, 1),
            EntryState::Stale {
                cause: "why".into(),
            },
        );
        let mut slr = judged(
            entry("arn:aws:iam::111122223333:role/aws-service-role/x/Y", 1),
            EntryState::Stale {
                cause: "slr".into(),
            },
        );
        slr.aws_managed = Some("an AWS service-linked role");
        let es = vec![judged(only, EntryState::Live), stale, slr];
        let f = audit_findings("prod", "", AuthMode::Api, &es, Some(creator), None, None);
        let codes: Vec<&str> = f.iter().map(|x| x.code).collect();
        assert_eq!(
            codes,
            vec!["stale-access-entry", "only-admin-is-creator"],
            "{f:?}"
        );
        // Another admin (in aws-auth, read in API_AND_CONFIG_MAP) clears the creator finding.
        let f = audit_findings(
            "prod",
            "",
            AuthMode::ApiAndConfigMap,
            &es,
            Some(creator),
            Some(&["arn:aws:iam::111122223333:role/ops".to_string()]),
            None,
        );
        assert!(!f.iter().any(|x| x.code == "only-admin-is-creator"));
    }

    #[test]
    fn policies_eks_does_not_offer_are_flagged() {
        let es = vec![judged(entry(ROLE, 1), EntryState::Live)];
        let offered = vec![format!(
            "arn:aws:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}"
        )];
        let f = audit_findings("prod", "", AuthMode::Api, &es, None, None, Some(&offered));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code, "unknown-access-policy");
        assert!(f[0].message.contains("AmazonEKSViewPolicy"));
    }

    #[test]
    fn the_creator_route_does_not_exist_without_bootstrap_admin() {
        let r = creator_route("prod", Some(false));
        assert!(!r.exists && r.instead.unwrap().contains("grant --cluster prod"));
        assert!(creator_route("prod", Some(true)).exists);
        assert!(creator_route("prod", None).exists);
    }

    #[test]
    fn the_reveal_plan_is_one_consented_irreversible_switch_and_names_the_one_admin_entry() {
        let p = reveal_plan("c", "us-east-1");
        assert_eq!(p.steps.len(), 1);
        assert_eq!(
            p.steps[0].consent.as_deref(),
            Some("--allow-auth-mode-change")
        );
        assert!(matches!(p.steps[0].undo, Undo::Irreversible { .. }));
        assert!(p.notes.iter().any(|n| n.contains("ONE-WAY")));
        let mut admin = entry(USER, 1);
        admin.policies.retain(|a| a.name() == CLUSTER_ADMIN_POLICY);
        let mut other = entry(ROLE, 1);
        other.policies.clear();
        assert_eq!(
            revealed_creator(&[other.clone(), admin.clone()]).map(|e| e.principal_arn.as_str()),
            Some(USER)
        );
        assert!(revealed_creator(&[other]).is_none());
        assert!(revealed_creator(&[admin.clone(), admin]).is_none());
    }

    #[test]
    fn reveal_applies_to_config_map_clusters_with_no_known_creator_only() {
        assert!(
            reveal_creator_route("c", AuthMode::ConfigMap, None, false)
                .unwrap()
                .contains("ONE-WAY")
        );
        assert!(reveal_creator_route("c", AuthMode::ConfigMap, None, true).is_none());
        assert!(reveal_creator_route("c", AuthMode::ApiAndConfigMap, None, false).is_none());
    }
}
