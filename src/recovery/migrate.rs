//! `migrate`: the effective aws-auth (as EKS's authenticator reads it) translated into EKS access
//! entries, row by row, with what cannot be translated and why.
//!
//! AWS deprecates aws-auth in favour of access entries, but the two do not say the same things:
//! entries may not use `system:` groups or usernames (so `system:masters` becomes
//! AmazonEKSClusterAdminPolicy at cluster scope), node roles become typed entries (EC2_LINUX,
//! EC2_WINDOWS, FARGATE_LINUX) that take no groups, an entry names the role's real IAM ARN
//! *with* its path (aws-auth needs it without — IAM Identity Center roles live under
//! `aws-reserved/sso.amazonaws.com/…`), a custom username may keep `{{SessionName}}` only with a
//! colon before it, and `mapAccounts` has no equivalent at all. A translation that silently
//! drops one of these locks someone out at the API switch; one that translates an aws-auth line
//! that never matched lets someone in who never was. So this module decides every row from the
//! *effective* mapping (shadowed duplicates and never-matching lines included), names what it
//! cannot keep, marks what would be NEW access (needing `--allow-access-gain`), and later
//! compares what EKS holds with what aws-auth gave ([`check_entry`]).
//!
//! Pure: facts in, a [`Translation`] and a [`Plan`] out. Evidence: EKS User Guide, "Create
//! access entries" and "Set a custom username for EKS access entries"
//! (awsdocs/amazon-eks-user-guide, `latest/ug/manage-access/k8s-access/`); the AWS roadmap
//! answer on how node roles migrate (aws/containers-roadmap#185).

use super::plan::{Action, Plan, Undo};
use crate::awsauth::model::{EffectiveMapping, NeverReason, SectionState};
use crate::awsauth::{NodeRoleFact, NodeRoleKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// Prefixes EKS refuses in an entry's username and kubernetesGroups ("can't start with
/// system:, eks:, aws:, amazon:, or iam:", EKS User Guide, "Create access entries").
pub const RESERVED_PREFIXES: &[&str] = &["system:", "eks:", "aws:", "amazon:", "iam:"];
/// The consent flag of the one-way mode switches; its value names the mode.
pub const MODE_CONSENT: &str = "--allow-auth-mode-change";
/// The access-gain consent flag, as in `aws-auth restore` and `recover`.
pub const GAIN_CONSENT: &str = "--allow-access-gain";

/// The type of an access entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EntryType {
    #[serde(rename = "STANDARD")]
    Standard,
    #[serde(rename = "EC2_LINUX")]
    Ec2Linux,
    #[serde(rename = "EC2_WINDOWS")]
    Ec2Windows,
    #[serde(rename = "FARGATE_LINUX")]
    FargateLinux,
}

impl EntryType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::Standard => "STANDARD",
            EntryType::Ec2Linux => "EC2_LINUX",
            EntryType::Ec2Windows => "EC2_WINDOWS",
            EntryType::FargateLinux => "FARGATE_LINUX",
        }
    }

    /// The username and groups EKS gives a node entry (fixed: node types take neither).
    fn node_identity(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            EntryType::Standard => None,
            EntryType::Ec2Linux | EntryType::Ec2Windows => {
                Some(("system:node:{{EC2PrivateDNSName}}", &["system:nodes"]))
            }
            EntryType::FargateLinux => Some((
                "system:node:{{SessionName}}",
                &["system:node-proxier", "system:nodes"],
            )),
        }
    }
}

/// An access entry as EKS holds it (DescribeAccessEntry + cluster-scoped associated policies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveEntry {
    pub principal_arn: String,
    pub entry_type: String,
    pub username: Option<String>,
    pub groups: Vec<String>,
    /// Policy ARNs associated with cluster scope.
    pub policies: Vec<String>,
}

/// The entry migrate wants for one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntrySpec {
    /// The principal's IAM ARN, with its path (as IAM GetRole/GetUser return it).
    pub principal_arn: String,
    pub entry_type: EntryType,
    /// `None`: EKS's default username.
    pub username: Option<String>,
    pub groups: Vec<String>,
    /// Access policies to associate at cluster scope.
    pub policies: Vec<String>,
}

/// What becomes of one aws-auth line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// migrate creates this entry.
    Create { entry: EntrySpec },
    /// EKS makes this node entry itself (managed node group / Fargate profile) at the switch;
    /// migrate creates it only if it is missing, and adopts it otherwise.
    EksManaged { entry: EntrySpec, source: String },
    /// An entry already exists for the principal: it is kept as it is (it wins over aws-auth).
    Adopt {
        entry: LiveEntry,
        wanted: EntrySpec,
        differences: Vec<String>,
    },
    /// The entry would let in an identity aws-auth never let in: only with consent.
    AccessGain { entry: EntrySpec, consented: bool },
    /// No entry can say what this line says.
    NotTranslated,
    /// EKS ignores this line already (a later duplicate replaced it).
    Ignored,
}

/// One row of the translation table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Where it comes from: `mapRoles line 3`.
    pub source: String,
    /// The identity as written in aws-auth.
    pub identity: String,
    /// What aws-auth gives it (username, groups).
    pub username: String,
    pub groups: Vec<String>,
    pub outcome: Outcome,
    /// Why (for NotTranslated, Ignored, AccessGain) — in one sentence for people.
    pub reason: Option<String>,
    /// How the entry is made from the aws-auth line, said plainly.
    pub notes: Vec<String>,
    /// What this identity loses at the switch to API (a group or username the entry cannot
    /// keep; all its access when the line gets it in today and cannot be translated).
    pub losses: Vec<String>,
}

impl Row {
    /// The entry this row makes or expects, if any.
    pub fn wanted(&self) -> Option<&EntrySpec> {
        match &self.outcome {
            Outcome::Create { entry } | Outcome::EksManaged { entry, .. } => Some(entry),
            Outcome::AccessGain { entry, consented } => consented.then_some(entry),
            Outcome::Adopt { wanted, .. } => Some(wanted),
            Outcome::NotTranslated | Outcome::Ignored => None,
        }
    }

    fn verdict(&self) -> &'static str {
        match &self.outcome {
            Outcome::Create { .. } => "create",
            Outcome::EksManaged { .. } => "EKS-managed",
            Outcome::Adopt { .. } => "adopt",
            Outcome::AccessGain {
                consented: true, ..
            } => "create (access gain, consented)",
            Outcome::AccessGain { .. } => "NOT created: access gain",
            Outcome::NotTranslated => "CANNOT TRANSLATE",
            Outcome::Ignored => "ignored",
        }
    }
}

/// The whole translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Translation {
    pub rows: Vec<Row>,
    /// Entries that exist and that no aws-auth line maps (the creator's, EKS-managed ones).
    pub other_entries: Vec<LiveEntry>,
    /// Whether the existing entries were known (API modes) or not (CONFIG_MAP: they appear at
    /// the switch, e.g. the creator's).
    pub entries_known: bool,
    /// aws-auth sections EKS reads none of (not YAML, or not a list), said for people: their
    /// identities get in neither today nor after, and no row can show them.
    pub lost_sections: Vec<String>,
}

impl Translation {
    /// Rows no entry can express.
    pub fn untranslated(&self) -> impl Iterator<Item = &Row> {
        self.rows
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::NotTranslated))
    }

    /// What each identity loses at the switch to API: (identity to name in the consent, what).
    /// A translated identity is named by its principal ARN, a mapAccounts line by its account.
    pub fn switch_losses(&self) -> Vec<(String, String)> {
        self.rows
            .iter()
            .filter(|r| !r.losses.is_empty())
            .map(|r| {
                let who = r
                    .wanted()
                    .map(|e| e.principal_arn.clone())
                    .unwrap_or_else(|| r.identity.clone());
                (who, format!("{} ({})", r.losses.join("; "), r.source))
            })
            .collect()
    }

    /// Access gains not consented: (identity, line for people).
    pub fn unconsented_gains(&self) -> Vec<(String, String)> {
        self.rows
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::AccessGain {
                    entry,
                    consented: false,
                } => Some((
                    entry.principal_arn.clone(),
                    format!(
                        "{}: {} ({GAIN_CONSENT} {})",
                        entry.principal_arn,
                        r.reason.as_deref().unwrap_or("new access"),
                        entry.principal_arn
                    ),
                )),
                _ => None,
            })
            .collect()
    }

    /// The table for people: one block per aws-auth line.
    pub fn render(&self) -> String {
        let mut out = String::from("Translation of the effective aws-auth into access entries:\n");
        for r in &self.rows {
            out.push_str(&format!(
                "\n  [{}] {} ({})\n      aws-auth: username {}, groups [{}]\n",
                r.verdict(),
                r.identity,
                r.source,
                show(&r.username),
                r.groups.join(", ")
            ));
            if let Outcome::Adopt {
                entry, differences, ..
            } = &r.outcome
            {
                out.push_str(&format!(
                    "      entry:    {} (exists)\n",
                    describe_live(entry)
                ));
                for d in differences {
                    out.push_str(&format!("      differs:  {d}\n"));
                }
            } else if let Some(e) = r.wanted() {
                out.push_str(&format!("      entry:    {}\n", describe_spec(e)));
            }
            if let Some(why) = &r.reason {
                out.push_str(&format!("      why:      {why}\n"));
            }
            for n in &r.notes {
                out.push_str(&format!("      note:     {n}\n"));
            }
            for l in &r.losses {
                out.push_str(&format!("      loses at the switch to API: {l}\n"));
            }
        }
        for l in &self.lost_sections {
            out.push_str(&format!("\n  LOST SECTION: {l}\n"));
        }
        if !self.other_entries.is_empty() {
            out.push_str("\n  Existing access entries no aws-auth line maps (kept as they are):\n");
            for e in &self.other_entries {
                out.push_str(&format!("   - {}\n", describe_live(e)));
            }
        }
        if !self.entries_known {
            out.push_str(
                "\n  The cluster is in CONFIG_MAP mode: its access entries cannot be listed yet. EKS makes the creator's entry (and node entries of managed node groups and Fargate profiles) at the switch; an entry that exists when migrate reaches it is adopted as it is, never replaced.\n",
            );
        }
        let untranslated = self.untranslated().count();
        out.push_str(&format!(
            "\n  {} line(s) translated, {} cannot be translated, {} access gain(s) needing consent.\n",
            self.rows.iter().filter(|r| r.wanted().is_some()).count(),
            untranslated,
            self.unconsented_gains().len()
        ));
        out
    }
}

fn show(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}

pub fn describe_spec(e: &EntrySpec) -> String {
    let mut s = format!("{} {}", e.entry_type.as_str(), e.principal_arn);
    match &e.username {
        Some(u) => s.push_str(&format!(", username {u}")),
        None if e.entry_type == EntryType::Standard => s.push_str(", EKS's default username"),
        None => {}
    }
    if !e.groups.is_empty() {
        s.push_str(&format!(", groups [{}]", e.groups.join(", ")));
    }
    for p in &e.policies {
        s.push_str(&format!(", {} (cluster scope)", short_policy(p)));
    }
    s
}

fn describe_live(e: &LiveEntry) -> String {
    let mut s = format!("{} {}", e.entry_type, e.principal_arn);
    if let Some(u) = &e.username {
        s.push_str(&format!(", username {u}"));
    }
    if !e.groups.is_empty() {
        s.push_str(&format!(", groups [{}]", e.groups.join(", ")));
    }
    for p in &e.policies {
        s.push_str(&format!(", {} (cluster scope)", short_policy(p)));
    }
    s
}

pub fn short_policy(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// AmazonEKSClusterAdminPolicy in `partition`.
pub fn admin_policy(partition: &str) -> String {
    format!("arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
}

/// What IAM says about a principal named in aws-auth: its ARN with path, or that it does not
/// exist. Keyed by the lower-cased ARN as written in aws-auth. A principal absent from the map
/// was not looked up because it belongs to another account than the one whose IAM is read.
pub type Resolved = BTreeMap<String, Option<String>>;

/// Everything the translation needs.
#[derive(Debug, Clone)]
pub struct MigrateFacts<'a> {
    pub partition: &'a str,
    pub mapping: &'a EffectiveMapping,
    pub resolved: &'a Resolved,
    /// Managed node group and Fargate profile roles (EKS manages their entries).
    pub node_roles: &'a [NodeRoleFact],
    /// Existing entries; `None` when they cannot be listed (CONFIG_MAP).
    pub existing: Option<&'a [LiveEntry]>,
    pub allow_access_gain: &'a [String],
}

fn reserved(s: &str) -> Option<&'static str> {
    RESERVED_PREFIXES.iter().copied().find(|p| s.starts_with(p))
}

/// EKS's default username for a principal (EKS User Guide, "Create access entries": a user's
/// ARN; a role's STS ARN with `{{SessionName}}`, path removed).
pub fn default_username(principal_arn: &str) -> String {
    let parts: Vec<&str> = principal_arn.splitn(6, ':').collect();
    if parts.len() == 6
        && let Some(rest) = parts[5].strip_prefix("role/")
    {
        let name = rest.rsplit('/').next().unwrap_or(rest);
        return format!(
            "arn:{}:sts::{}:assumed-role/{name}/{{{{SessionName}}}}",
            parts[1], parts[4]
        );
    }
    principal_arn.to_string()
}

/// Whether an entry may carry `username` as written, and why not.
pub fn username_problem(username: &str) -> Option<String> {
    if let Some(p) = reserved(username) {
        return Some(format!(
            "an access entry's username can't start with {p} (EKS refuses it)"
        ));
    }
    let mut rest = username;
    while let Some(i) = rest.find("{{") {
        let Some(end) = rest[i..].find("}}") else {
            break;
        };
        let name = &rest[i + 2..i + end];
        if !matches!(name, "SessionName" | "SessionNameRaw") {
            return Some(format!(
                "{{{{{name}}}}} is not a template access entries document (only {{{{SessionName}}}} and {{{{SessionNameRaw}}}} are)"
            ));
        }
        rest = &rest[i + end + 2..];
    }
    if let Some(i) = username.find("{{SessionName")
        && !username[..i].contains(':')
    {
        return Some(
            "EKS requires a colon before {{SessionName}} in an access entry's username".into(),
        );
    }
    None
}

fn node_kind_of(username: &str, groups: &[String]) -> Option<EntryType> {
    if !groups.iter().any(|g| g == "system:nodes") {
        return None;
    }
    if groups.iter().any(|g| g == "eks:kube-proxy-windows") {
        return Some(EntryType::Ec2Windows);
    }
    if username.contains("{{SessionName}}") || groups.iter().any(|g| g == "system:node-proxier") {
        return Some(EntryType::FargateLinux);
    }
    Some(EntryType::Ec2Linux)
}

/// A STANDARD entry for an aws-auth (username, groups): `system:masters` → the admin policy,
/// other allowed groups kept, reserved ones named as lost, the username kept when EKS allows it.
fn standard(
    principal_arn: &str,
    username: &str,
    groups: &[String],
    partition: &str,
    notes: &mut Vec<String>,
    losses: &mut Vec<String>,
) -> EntrySpec {
    let mut kept = Vec::new();
    let mut policies = Vec::new();
    for g in groups {
        if g == "system:masters" {
            policies.push(admin_policy(partition));
            notes.push("system:masters becomes AmazonEKSClusterAdminPolicy at cluster scope (entries may not name system: groups)".into());
        } else if g == "system:authenticated" {
            // Everyone authenticated has it anyway.
        } else if let Some(p) = reserved(g) {
            losses.push(format!(
                "group {g} cannot be kept: entries may not name groups starting with {p}; bindings on it no longer apply to this identity once aws-auth stops being read"
            ));
        } else if !kept.contains(g) {
            kept.push(g.clone());
        }
    }
    let default = default_username(principal_arn);
    let username = if username.is_empty() || username == default {
        None
    } else if let Some(why) = username_problem(username) {
        losses.push(format!(
            "username {username} cannot be kept: {why}; the entry gets EKS's default username {default}, so RBAC bindings on the user {username} no longer apply"
        ));
        None
    } else {
        Some(username.to_string())
    };
    EntrySpec {
        principal_arn: principal_arn.to_string(),
        entry_type: EntryType::Standard,
        username,
        groups: kept,
        policies,
    }
}

/// The differences between an existing entry and the one migrate would make.
fn differences(live: &LiveEntry, wanted: &EntrySpec) -> Vec<String> {
    let mut d = Vec::new();
    if live.entry_type != wanted.entry_type.as_str() {
        d.push(format!(
            "type {} (aws-auth says {})",
            live.entry_type,
            wanted.entry_type.as_str()
        ));
    }
    if wanted.entry_type == EntryType::Standard {
        let want_user = wanted
            .username
            .clone()
            .unwrap_or_else(|| default_username(&wanted.principal_arn));
        if let Some(u) = &live.username
            && *u != want_user
        {
            d.push(format!("username {u} (aws-auth gives {want_user})"));
        }
        for g in &wanted.groups {
            if !live.groups.contains(g) {
                d.push(format!("no group {g}"));
            }
        }
        for p in &wanted.policies {
            if !live.policies.contains(p) {
                d.push(format!("no {}", short_policy(p)));
            }
        }
        for g in &live.groups {
            if !wanted.groups.contains(g) {
                d.push(format!("{EXTRA}group {g} (aws-auth never gave it)"));
            }
        }
        for p in &live.policies {
            if !wanted.policies.contains(p) {
                d.push(format!(
                    "{EXTRA}{} (aws-auth never gave it)",
                    short_policy(p)
                ));
            }
        }
    }
    d
}

/// How [`differences`] starts a line about something the entry gives beyond aws-auth.
const EXTRA: &str = "more: ";

fn find_live<'a>(existing: Option<&'a [LiveEntry]>, arn: &str) -> Option<&'a LiveEntry> {
    existing?.iter().find(|e| e.principal_arn == arn)
}

fn never_reason_text(r: NeverReason) -> &'static str {
    match r {
        NeverReason::Path => "the role is written with its path, so aws-auth never matched it",
        NeverReason::SsoPath => {
            "the IAM Identity Center role is written with its aws-reserved path, so aws-auth never matched it"
        }
        NeverReason::AssumedRole => {
            "an STS assumed-role ARN: aws-auth never matched it, and an access entry cannot name a session"
        }
        NeverReason::Malformed => "not an IAM principal ARN",
        NeverReason::Wildcard => "a wildcard: aws-auth compares ARNs literally, entries too",
        NeverReason::SsoMatcherDisabled => {
            "an sso: matcher (feature-gated off in the authenticator): map the permission set's role ARN instead"
        }
        NeverReason::UserWithEc2Template => {
            "a user mapping with {{EC2PrivateDNSName}}: the authenticator refuses the login"
        }
    }
}

/// Why a principal of another account gets no entry. EKS would take one ("If the type is
/// STANDARD, the ARN can be in the same, or different, AWS account than the account that your
/// cluster is in; other types must be in the cluster's account", EKS User Guide, "Create access
/// entries"), but it must name the principal's exact ARN, path included, and only that
/// account's IAM knows the path: resolving the name in the operator's account would pick a
/// different principal that merely shares the name.
fn other_account_reason(identity: &str) -> String {
    let acct = principal_account(identity).unwrap_or("?");
    format!(
        "{identity} is in account {acct}, not the account whose IAM migrate reads, so its exact ARN (with its path) cannot be looked up and a same-named principal here is NOT it. EKS accepts a STANDARD entry for a principal of another account (node types must be in the cluster's account): create it by hand with its full ARN (`eks-breakglass grant --principal ARN`, or aws eks create-access-entry) before the switch to API"
    )
}

/// The account id of an ARN (`arn:P:SERVICE::ACCOUNT:…`).
pub fn principal_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && !parts[4].is_empty()).then_some(parts[4])
}

/// Translates the effective aws-auth into access entries.
pub fn translate(f: &MigrateFacts) -> Translation {
    let mut rows = Vec::new();
    let mut mapped_arns: Vec<String> = Vec::new();
    let resolve = |written: &str| {
        f.resolved
            .get(&written.to_ascii_lowercase())
            .cloned()
            .flatten()
    };
    // The IAM roles the lines EKS reads resolve to: a dead line (written with a path) for one
    // of them is not new access, and must not become its entry.
    let live_roles: Vec<(String, usize)> = f
        .mapping
        .roles
        .iter()
        .filter(|r| !r.is_shadowed() && r.never_matches().is_none() && !r.arn.is_empty())
        .filter_map(|r| Some((resolve(&r.arn)?.to_ascii_lowercase(), r.line)))
        .collect();
    for r in &f.mapping.roles {
        let source = format!("mapRoles line {}", r.line);
        let identity = if r.arn.is_empty() {
            r.key.clone()
        } else {
            r.arn.clone()
        };
        let mut row = Row {
            source,
            identity: identity.clone(),
            username: r.username.clone(),
            groups: r.groups.clone(),
            outcome: Outcome::NotTranslated,
            reason: None,
            notes: Vec::new(),
            losses: Vec::new(),
        };
        if r.is_shadowed() {
            row.outcome = Outcome::Ignored;
            row.reason = Some(
                "a later line for the same role replaces this one (EKS reads the last one)".into(),
            );
            rows.push(row);
            continue;
        }
        let never = r.never_matches();
        let gain_possible = matches!(never, Some(NeverReason::Path | NeverReason::SsoPath));
        if let Some(n) = never
            && !gain_possible
        {
            row.reason = Some(never_reason_text(n).into());
            rows.push(row);
            continue;
        }
        if !r.arn.is_empty() && !f.resolved.contains_key(&identity.to_ascii_lowercase()) {
            row.reason = Some(other_account_reason(&identity));
            row.losses
                .push("all its access (no entry can be made for it here)".into());
            rows.push(row);
            continue;
        }
        let Some(principal) = resolve(&identity) else {
            row.reason = Some(format!(
                "IAM has no role named like {identity} (GetRole: NoSuchEntity): nobody gets in with this line today, and EKS refuses an entry for a principal that does not exist"
            ));
            rows.push(row);
            continue;
        };
        if gain_possible
            && let Some((_, line)) = live_roles
                .iter()
                .find(|(p, _)| p.eq_ignore_ascii_case(&principal))
        {
            row.outcome = Outcome::Ignored;
            row.reason = Some(format!(
                "{}; EKS gives {principal} what mapRoles line {line} says (written without the path), and only that line is translated",
                never_reason_text(never.unwrap_or(NeverReason::Path))
            ));
            rows.push(row);
            continue;
        }
        if gain_possible && !principal.eq_ignore_ascii_case(&identity) {
            row.reason = Some(format!(
                "{}; IAM's role of that name is {principal}, so no entry is made",
                never_reason_text(never.unwrap_or(NeverReason::Path))
            ));
            rows.push(row);
            continue;
        }
        if principal.contains(":role/aws-reserved/sso.amazonaws.com/") && !gain_possible {
            row.notes.push(format!(
                "IAM Identity Center role: aws-auth names it without its path, the entry needs its full ARN {principal} (resolved with iam:GetRole)"
            ));
        } else if principal != identity && !gain_possible {
            row.notes.push(format!(
                "the entry names the role's IAM ARN {principal} (with its path; aws-auth names it without)"
            ));
        }
        let entry = match node_kind_of(&r.username, &r.groups) {
            Some(kind) => {
                let managed = f
                    .node_roles
                    .iter()
                    .find(|n| n.arn.eq_ignore_ascii_case(&principal));
                let kind = match managed.map(|m| m.kind) {
                    Some(NodeRoleKind::Ec2Linux) => EntryType::Ec2Linux,
                    Some(NodeRoleKind::Ec2Windows) => EntryType::Ec2Windows,
                    Some(NodeRoleKind::Fargate) => EntryType::FargateLinux,
                    None => kind,
                };
                if let Some((_, fixed)) = kind.node_identity() {
                    let extra: Vec<&String> = r
                        .groups
                        .iter()
                        .filter(|g| {
                            !fixed.contains(&g.as_str())
                                && !matches!(g.as_str(), "system:bootstrappers")
                        })
                        .collect();
                    if !extra.is_empty() {
                        row.losses.push(format!(
                            "a {} entry takes no groups: {} cannot be kept",
                            kind.as_str(),
                            extra
                                .iter()
                                .map(|g| g.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
                let spec = EntrySpec {
                    principal_arn: principal.clone(),
                    entry_type: kind,
                    username: None,
                    groups: Vec::new(),
                    policies: Vec::new(),
                };
                match managed {
                    Some(m) => Some((spec, Some(m.source.clone()))),
                    None => Some((spec, None)),
                }
            }
            None => Some((
                standard(
                    &principal,
                    &r.username,
                    &r.groups,
                    f.partition,
                    &mut row.notes,
                    &mut row.losses,
                ),
                None,
            )),
        };
        if let Some((spec, managed)) = entry {
            row.outcome = decide(f, spec, managed, gain_possible.then_some(never).flatten());
            if let Outcome::AccessGain { .. } = row.outcome {
                // It does not get in with this line today: it loses nothing at the switch.
                row.losses.clear();
                let via_account = principal_account(&principal).and_then(|acct| {
                    f.mapping
                        .accounts
                        .iter()
                        .find(|a| a.account == acct)
                        .map(|a| a.line)
                });
                row.reason = never.map(|n| match via_account {
                    Some(line) => format!(
                        "{}; {principal} gets in today only through mapAccounts line {line} (its ARN as username, no groups): an entry with [{}] is MORE access than it has",
                        never_reason_text(n),
                        r.groups.join(", ")
                    ),
                    None => format!(
                        "{}; nothing else in aws-auth lets {principal} in today: an entry WOULD let it in, new access",
                        never_reason_text(n)
                    ),
                });
            }
            mapped_arns.push(principal);
        }
        rows.push(row);
    }
    for u in &f.mapping.users {
        let mut row = Row {
            source: format!("mapUsers line {}", u.line),
            identity: u.arn.clone(),
            username: u.username.clone(),
            groups: u.groups.clone(),
            outcome: Outcome::NotTranslated,
            reason: None,
            notes: Vec::new(),
            losses: Vec::new(),
        };
        if u.is_shadowed() {
            row.outcome = Outcome::Ignored;
            row.reason = Some(
                "another line for the same user replaces this one (EKS reads one of them)".into(),
            );
            rows.push(row);
            continue;
        }
        if let Some(n) = u.never_matches() {
            row.reason = Some(never_reason_text(n).into());
            rows.push(row);
            continue;
        }
        if !f.resolved.contains_key(&u.arn.to_ascii_lowercase()) {
            row.reason = Some(other_account_reason(&u.arn));
            row.losses
                .push("all its access (no entry can be made for it here)".into());
            rows.push(row);
            continue;
        }
        let Some(principal) = resolve(&u.arn) else {
            row.reason = Some("IAM has no such user (GetUser: NoSuchEntity): nobody gets in with this line today, and EKS refuses an entry for a principal that does not exist".to_string());
            rows.push(row);
            continue;
        };
        if !principal.eq_ignore_ascii_case(&u.arn) {
            row.reason = Some(format!(
                "path mismatch: IAM's user is {principal}, aws-auth names {} — an IAM user's ARN carries its path, so this line never matched and nobody gets in with it today; no entry is made (an entry for {principal} would be new access: give it separately with `eks-breakglass grant` if meant)",
                u.arn
            ));
            rows.push(row);
            continue;
        }
        let spec = standard(
            &principal,
            &u.username,
            &u.groups,
            f.partition,
            &mut row.notes,
            &mut row.losses,
        );
        row.outcome = decide(f, spec, None, None);
        mapped_arns.push(principal);
        rows.push(row);
    }
    for a in &f.mapping.accounts {
        rows.push(Row {
            source: format!("mapAccounts line {}", a.line),
            identity: a.account.clone(),
            username: "(each principal's ARN)".into(),
            groups: Vec::new(),
            outcome: Outcome::NotTranslated,
            reason: Some(format!(
                "mapAccounts lets every IAM user and role of account {} in (username: its ARN, no groups); an access entry names one principal, so nothing account-wide can replace it. They keep getting in through aws-auth in API_AND_CONFIG_MAP and are refused after the switch to API: give each principal that needs the cluster its own entry (`eks-breakglass grant --principal ARN`, or aws eks create-access-entry)",
                a.account
            )),
            notes: Vec::new(),
            losses: vec![format!(
                "all access of account {}'s principals that have no entry of their own (mapAccounts)",
                a.account
            )],
        });
    }
    let other_entries = f
        .existing
        .unwrap_or_default()
        .iter()
        .filter(|e| !mapped_arns.contains(&e.principal_arn))
        .cloned()
        .collect();
    let sections = &f.mapping.sections;
    let lost_sections = [
        ("mapRoles", sections.map_roles),
        ("mapUsers", sections.map_users),
        ("mapAccounts", sections.map_accounts),
    ]
    .into_iter()
    .filter_map(|(name, state)| match state {
        SectionState::Lost => Some(format!(
            "{name} is not valid YAML: EKS reads none of it, so nobody it names gets in today, and migrate translates none of it (fix the section first if those identities need access)"
        )),
        SectionState::NotAList => Some(format!(
            "{name} is not a list: EKS reads no entry from it, so nobody it names gets in today, and migrate translates none of it"
        )),
        SectionState::Absent | SectionState::Loaded => None,
    })
    .collect();
    Translation {
        rows,
        other_entries,
        entries_known: f.existing.is_some(),
        lost_sections,
    }
}

fn decide(
    f: &MigrateFacts,
    spec: EntrySpec,
    managed: Option<String>,
    gain: Option<NeverReason>,
) -> Outcome {
    if let Some(live) = find_live(f.existing, &spec.principal_arn) {
        return Outcome::Adopt {
            differences: differences(live, &spec),
            entry: live.clone(),
            wanted: spec,
        };
    }
    if gain.is_some() {
        let consented = f
            .allow_access_gain
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&spec.principal_arn));
        return Outcome::AccessGain {
            entry: spec,
            consented,
        };
    }
    match managed {
        Some(source) => Outcome::EksManaged {
            entry: spec,
            source,
        },
        None => Outcome::Create { entry: spec },
    }
}

/// The stage-one plan: the mode switch (when the cluster is in CONFIG_MAP), then the entries
/// and their policies. aws-auth is never written.
pub fn plan(t: &Translation, cluster: &str, region: &str, mode: &str) -> Plan {
    let mut p = Plan::new("migrate", cluster, region);
    p.notes.push(
        "aws-auth is not changed and not deleted: it keeps working until the separate switch to API".into(),
    );
    let untranslated = t.untranslated().count();
    if untranslated > 0 {
        p.notes.push(format!(
            "{untranslated} aws-auth line(s) cannot be translated (see the table): those identities keep getting in only through aws-auth, and lose access at the switch to API"
        ));
    }
    p.notes.extend(t.lost_sections.iter().cloned());
    if mode == "CONFIG_MAP" {
        let s = p.push(
            format!("switch {cluster}'s authentication mode to API_AND_CONFIG_MAP"),
            "access entries exist only in the API modes; aws-auth keeps working in API_AND_CONFIG_MAP",
            Action::SwitchAuthMode {
                cluster: cluster.into(),
                from: "CONFIG_MAP".into(),
                to: "API_AND_CONFIG_MAP".into(),
            },
            Undo::Irreversible {
                reason: "EKS cannot go back to CONFIG_MAP (the mode switch is one-way); aws-auth keeps working in API_AND_CONFIG_MAP".into(),
            },
        );
        s.consent = Some(format!("{MODE_CONSENT} API_AND_CONFIG_MAP"));
    }
    for r in &t.rows {
        let (e, why, consent) = match &r.outcome {
            Outcome::Create { entry } => (entry, format!("aws-auth {} maps it", r.source), None),
            Outcome::EksManaged { entry, source } => (
                entry,
                format!(
                    "node role of {source}: EKS makes this entry itself at the switch; created only if it is missing, adopted (left alone by undo) if it is there"
                ),
                None,
            ),
            Outcome::AccessGain {
                entry,
                consented: true,
            } => (
                entry,
                format!("{}: NEW access, consented", r.source),
                Some(format!("{GAIN_CONSENT} {}", entry.principal_arn)),
            ),
            _ => continue,
        };
        let s = p.push(
            format!(
                "create the {} access entry of {}",
                e.entry_type.as_str(),
                e.principal_arn
            ),
            why,
            Action::CreateTypedAccessEntry {
                cluster: cluster.into(),
                principal_arn: e.principal_arn.clone(),
                entry_type: e.entry_type.as_str().into(),
                username: e.username.clone(),
                kubernetes_groups: e.groups.clone(),
            },
            Undo::DeleteAccessEntry {
                cluster: cluster.into(),
                principal_arn: e.principal_arn.clone(),
                made: None,
                entry_arn: None,
            },
        );
        s.consent = consent.clone();
        for pol in &e.policies {
            let s = p.push(
                format!(
                    "associate {} with {} (cluster scope)",
                    short_policy(pol),
                    e.principal_arn
                ),
                "aws-auth gives it system:masters, which an entry may not name",
                Action::AssociateAccessPolicy {
                    cluster: cluster.into(),
                    principal_arn: e.principal_arn.clone(),
                    policy_arn: pol.clone(),
                },
                Undo::DisassociateAccessPolicy {
                    cluster: cluster.into(),
                    principal_arn: e.principal_arn.clone(),
                    policy_arn: pol.clone(),
                    entry_arn: None,
                },
            );
            s.consent = consent.clone();
        }
    }
    p.then.push("verify every translated identity: log in as the operator and each --verify-as role, compare every other entry's username, groups and policies with what aws-auth gave".into());
    p.then.push(format!(
        "only then, separately: `eks-breakglass migrate --cluster {cluster} --switch-to-api {MODE_CONSENT} API` (one-way; aws-auth is ignored from then on)"
    ));
    p
}

/// The stage-two plan: API_AND_CONFIG_MAP → API.
pub fn switch_plan(t: &Translation, cluster: &str, region: &str) -> Plan {
    let mut p = Plan::new("migrate", cluster, region);
    p.notes.push(
        "after this switch EKS reads no aws-auth at all (it stays in the cluster, unchanged)"
            .into(),
    );
    for r in t.untranslated() {
        p.notes.push(format!(
            "{} ({}) is not translated: {}",
            r.identity,
            r.source,
            r.reason.as_deref().unwrap_or("no entry")
        ));
    }
    for (who, what) in t.switch_losses() {
        p.notes.push(format!("{who} LOSES at the switch: {what}"));
    }
    p.notes.extend(t.lost_sections.iter().cloned());
    let s = p.push(
        format!("switch {cluster}'s authentication mode to API"),
        "every translated identity was verified against its access entry",
        Action::SwitchAuthMode {
            cluster: cluster.into(),
            from: "API_AND_CONFIG_MAP".into(),
            to: "API".into(),
        },
        Undo::Irreversible {
            reason: "EKS cannot go back from API (the mode switch is one-way)".into(),
        },
    );
    s.consent = Some(format!("{MODE_CONSENT} API"));
    p
}

/// How one identity fares, comparing what EKS holds with what aws-auth gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Check {
    /// The entry gives what the translation says.
    Same,
    /// Same groups and policies, another username (an adopted entry, e.g. the creator's): RBAC
    /// bindings on the old username stop applying at the switch to API.
    UsernameDiffers { note: String },
    /// An entry exists but lacks a group or policy aws-auth gave (or has another type).
    Differs { differences: Vec<String> },
    /// The entry gives everything aws-auth gave and MORE (another group, a policy): nobody
    /// loses access, but it is not what aws-auth said, and the operator is told.
    GivesMore { extras: Vec<String> },
    /// No entry for a translated identity.
    Missing,
}

impl Check {
    /// Whether the identity would lose access at the switch to API.
    pub fn loses_access(&self) -> bool {
        matches!(self, Check::Differs { .. } | Check::Missing)
    }

    pub fn describe(&self) -> String {
        match self {
            Check::Same => "entry matches what aws-auth gave".into(),
            Check::UsernameDiffers { note } => format!("entry matches except the {note}"),
            Check::Differs { differences } => {
                format!("entry differs: {}", differences.join("; "))
            }
            Check::GivesMore { extras } => {
                format!("entry gives MORE than aws-auth: {}", extras.join("; "))
            }
            Check::Missing => "NO access entry".into(),
        }
    }
}

/// Compares the live entry of a translated row with what it should be.
pub fn check_entry(wanted: &EntrySpec, live: Option<&LiveEntry>) -> Check {
    let Some(l) = live else {
        return Check::Missing;
    };
    let (extras, rest): (Vec<String>, Vec<String>) = differences(l, wanted)
        .into_iter()
        .partition(|d| d.starts_with(EXTRA));
    let (names, losses): (Vec<String>, Vec<String>) =
        rest.into_iter().partition(|d| d.starts_with("username "));
    if !losses.is_empty() {
        Check::Differs {
            differences: losses.into_iter().chain(extras).collect(),
        }
    } else if !extras.is_empty() {
        Check::GivesMore {
            extras: extras.into_iter().chain(names).collect(),
        }
    } else if let Some(n) = names.into_iter().next() {
        Check::UsernameDiffers { note: n }
    } else {
        Check::Same
    }
}

/// Whether a username EKS gave after a login fits the entry's username template.
pub fn username_fits(template: &str, actual: &str) -> bool {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        pieces.push(&rest[..i]);
        match rest[i..].find("}}") {
            Some(end) => rest = &rest[i + end + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    if pieces.is_empty() {
        return template == actual;
    }
    pieces.push(rest);
    let mut at = 0usize;
    for (n, p) in pieces.iter().enumerate() {
        if n == 0 {
            if !actual.starts_with(p) {
                return false;
            }
            at = p.len();
        } else if n == pieces.len() - 1 {
            return actual.len() >= at + p.len() && actual.ends_with(p);
        } else {
            match actual[at..].find(p) {
                Some(i) => at += i + p.len(),
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests;
