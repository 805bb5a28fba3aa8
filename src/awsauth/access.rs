//! Who gains access through a new aws-auth, and on whose word.
//!
//! A mapping diff (added / removed / changed entries) does not answer the question an operator
//! must answer before writing aws-auth at 3 a.m.: *does this give anyone more than they had?*
//! A re-indented block, a duplicate far below, or a salvage that rewrote an ARN all read as
//! "roles +2 -2 ~1". This module compares what the authenticator grants each identity now with
//! what it would grant after the write — per identity, the groups gained and lost — and says
//! for every gain where it comes from:
//!
//! - **as written**: the live aws-auth names this exact ARN with these groups, but the
//!   authenticator does not load it now (the section is lost, the entry dropped, a field
//!   ignored). Putting it back is the recovery itself;
//! - **node role**: a node group or Fargate role EKS reports, with only the node groups (EKS
//!   itself writes these entries);
//! - **named**: a principal the operator named on the command line (`--admin-role`,
//!   `--map-admin`);
//! - **new**: nothing of the above. These need their own consent (`--allow-access-gain`):
//!   `--yes` alone never approves them.
//!
//! Identities are compared the way the authenticator looks them up: role ARNs and user ARNs
//! case-insensitively, entries that can never match ignored, the last duplicate of a role in
//! force.

use super::model::EffectiveMapping;
use serde::Serialize;

/// Groups that EKS puts on node and Fargate role entries.
const NODE_GROUPS: &[&str] = &[
    "system:bootstrappers",
    "system:nodes",
    "system:node-proxier",
    "eks:kube-proxy-windows",
];

/// What an identity is granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub username: String,
    pub groups: Vec<String>,
}

/// Where a gain comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The live aws-auth names this identity with these groups (it just does not load now).
    AsWritten,
    /// A node or Fargate role of the cluster, with node groups only.
    NodeRole,
    /// Named by the operator on the command line.
    Named,
    /// Nothing vouches for it: needs `--allow-access-gain`.
    New,
}

/// The change for one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityChange {
    /// `role`, `user` or `account`.
    pub kind: &'static str,
    /// The ARN (or account id) as the new version writes it.
    pub identity: String,
    pub before: Option<Grant>,
    pub after: Option<Grant>,
    pub gained_groups: Vec<String>,
    pub lost_groups: Vec<String>,
    /// Gains anything: newly let in, a new group, or a new username (RBAC may bind it).
    pub gains: bool,
    /// For a gain: where it comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
}

impl IdentityChange {
    /// One line for people.
    pub fn describe(&self) -> String {
        let grant = |g: &Option<Grant>| match g {
            None => "no access".to_string(),
            Some(g) => format!("{} [{}]", g.username, g.groups.join(", ")),
        };
        let masters = if self.gained_groups.iter().any(|g| g == "system:masters") {
            " — CLUSTER ADMIN (system:masters)"
        } else {
            ""
        };
        let why = match self.basis {
            Some(Basis::AsWritten) => {
                " (as the live aws-auth writes it; the authenticator does not load it now)"
            }
            Some(Basis::NodeRole) => " (a node/Fargate role of the cluster, node groups only)",
            Some(Basis::Named) => " (named on the command line)",
            Some(Basis::New) => " (NEW: nothing in the live aws-auth grants this)",
            None => "",
        };
        let sign = if self.gains {
            "+"
        } else if self.after.is_none() {
            "-"
        } else {
            "~"
        };
        format!(
            "{sign} {} {}: {} -> {}{masters}{why}",
            self.kind,
            self.identity,
            grant(&self.before),
            grant(&self.after)
        )
    }
}

/// Every identity whose access changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessDiff {
    pub changes: Vec<IdentityChange>,
}

impl AccessDiff {
    /// Gains that need `--allow-access-gain`.
    pub fn new_gains(&self) -> Vec<&IdentityChange> {
        self.changes
            .iter()
            .filter(|c| c.gains && c.basis == Some(Basis::New))
            .collect()
    }

    /// NEW gains that the named consents (`--allow-access-gain ARN|ACCOUNT`) do not cover. A
    /// consent names one identity: a role (its ARN, a path or not, compared the way the
    /// authenticator compares: case-insensitively), a user ARN, or an account id for a
    /// mapAccounts entry. Anything else NEW still needs consent.
    ///
    /// A consent naming one assumed-role SESSION approves nothing: aws-auth cannot map one
    /// session, a gain of the role goes to every session of it (everyone who can assume the
    /// role), and the operator who named one session did not consent to that
    /// ([`session_consents`](Self::session_consents) lists them, to say so).
    pub fn unconsented(&self, allowed: &[String]) -> Vec<&IdentityChange> {
        let allowed: Vec<String> = allowed
            .iter()
            .filter(|a| session_role(a).is_none())
            .map(|a| consent_key(a))
            .collect();
        self.new_gains()
            .into_iter()
            .filter(|c| !allowed.contains(&consent_key(&c.identity)))
            .collect()
    }

    /// Consents that name no NEW gain (a typo, or an identity that needs none). Session
    /// consents are not listed here: [`session_consents`](Self::session_consents) says why
    /// they approve nothing.
    pub fn unused_consents<'a>(&self, allowed: &'a [String]) -> Vec<&'a str> {
        let new: Vec<String> = self
            .new_gains()
            .iter()
            .map(|c| consent_key(&c.identity))
            .collect();
        allowed
            .iter()
            .filter(|a| session_role(a).is_none() && !new.contains(&consent_key(a)))
            .map(String::as_str)
            .collect()
    }

    /// Consents that name an assumed-role session (they approve nothing), each with its role
    /// and whether that role gains NEW access here.
    pub fn session_consents<'a>(&self, allowed: &'a [String]) -> Vec<(&'a str, String, bool)> {
        allowed
            .iter()
            .filter_map(|a| {
                let role = session_role(a)?;
                let gains = self
                    .new_gains()
                    .iter()
                    .any(|c| consent_key(&c.identity) == role.to_ascii_lowercase());
                Some((a.as_str(), role, gains))
            })
            .collect()
    }

    pub fn gains(&self) -> impl Iterator<Item = &IdentityChange> {
        self.changes.iter().filter(|c| c.gains)
    }

    /// Who gains `system:masters`.
    pub fn new_admins(&self) -> Vec<&str> {
        self.gains()
            .filter(|c| c.gained_groups.iter().any(|g| g == "system:masters"))
            .map(|c| c.identity.as_str())
            .collect()
    }

    /// Lines for people (gains first).
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.gains().map(IdentityChange::describe).collect();
        out.extend(
            self.changes
                .iter()
                .filter(|c| !c.gains)
                .map(IdentityChange::describe),
        );
        out
    }

    /// A one-line summary: `3 gain (1 new: 1 to system:masters), 1 lose`.
    pub fn summary(&self) -> String {
        let gains = self.gains().count();
        let new = self.new_gains();
        let masters = new
            .iter()
            .filter(|c| c.gained_groups.iter().any(|g| g == "system:masters"))
            .count();
        let lose = self.changes.len() - gains;
        format!(
            "{gains} identit{} access ({} new{}), {lose} lose or change",
            if gains == 1 { "y gains" } else { "ies gain" },
            new.len(),
            if masters > 0 {
                format!(", {masters} of them to system:masters")
            } else {
                String::new()
            }
        )
    }
}

/// How a consent and an identity are compared: a role by its path-less ARN, case-insensitively
/// (as the authenticator compares), anything else as written, case-insensitively.
fn consent_key(a: &str) -> String {
    let a = a.trim();
    super::principal::canonical_role_arn(a)
        .unwrap_or_else(|| a.to_string())
        .to_ascii_lowercase()
}

/// The role of an assumed-role session ARN (`None`: not a session).
fn session_role(a: &str) -> Option<String> {
    use super::principal::{ArnShape, canonical_role_arn, classify};
    match classify(a.trim()) {
        ArnShape::AssumedRole { .. } => canonical_role_arn(a.trim()),
        _ => None,
    }
}

/// The identities a mapping lets in, keyed the way the authenticator looks a caller up
/// (aws-iam-authenticator `pkg/mapper/configmap` `Map`): the caller's canonical ARN,
/// lower-cased, first in mapRoles, then in mapUsers, then its account in mapAccounts. The key
/// is the ARN alone, not the section: a role ARN written under mapUsers matches that role when
/// mapRoles does not name it, so removing the mapRoles entry hands the role the mapUsers grant.
fn grants(m: &EffectiveMapping) -> Vec<(&'static str, String, String, Grant)> {
    let mut out: Vec<(&'static str, String, String, Grant)> = Vec::new();
    for r in m.active_roles() {
        if r.never_matches().is_some() || r.arn.is_empty() {
            continue;
        }
        let key = r.arn.to_ascii_lowercase();
        out.retain(|(k, kk, _, _)| !(*k != "account" && *kk == key));
        out.push((
            "role",
            key,
            r.arn.clone(),
            Grant {
                username: r.username.clone(),
                groups: r.groups.clone(),
            },
        ));
    }
    for u in m.active_users() {
        if u.never_matches().is_some() {
            continue;
        }
        let key = u.arn.to_ascii_lowercase();
        if out
            .iter()
            .any(|(k, kk, _, _)| *k != "account" && *kk == key)
        {
            continue;
        }
        out.push((
            "user",
            key,
            u.arn.clone(),
            Grant {
                username: u.username.clone(),
                groups: u.groups.clone(),
            },
        ));
    }
    for a in &m.accounts {
        let key = a.account.clone();
        if out
            .iter()
            .any(|(k, kk, _, _)| *k == "account" && *kk == key)
        {
            continue;
        }
        out.push((
            "account",
            key,
            a.account.clone(),
            Grant {
                username: "(the caller's ARN)".into(),
                groups: Vec::new(),
            },
        ));
    }
    out
}

/// The grant for a caller key: ARNs (role or user, whichever section matched) share one key
/// space, accounts have their own.
fn find<'a>(
    list: &'a [(&'static str, String, String, Grant)],
    kind: &str,
    key: &str,
) -> Option<&'a Grant> {
    let account = kind == "account";
    list.iter()
        .find(|(k, kk, _, _)| (*k == "account") == account && kk == key)
        .map(|(_, _, _, g)| g)
}

/// Compares what `live` grants with what `new` grants. `written` is the live aws-auth as
/// written (a salvage of it that changes no ARN): a gain it vouches for is [`Basis::AsWritten`].
/// `node_roles` are the cluster's node/Fargate role ARNs; `named` the principals the operator
/// named on the command line.
pub fn access_diff(
    live: &EffectiveMapping,
    written: &EffectiveMapping,
    new: &EffectiveMapping,
    node_roles: &[String],
    named: &[String],
) -> AccessDiff {
    let (before, after, vouched) = (grants(live), grants(written), grants(new));
    let canon = |a: &str| {
        super::principal::canonical_role_arn(a)
            .unwrap_or_else(|| a.to_string())
            .to_ascii_lowercase()
    };
    let node_roles: Vec<String> = node_roles.iter().map(|a| canon(a)).collect();
    let named: Vec<String> = named.iter().map(|a| canon(a)).collect();
    let mut changes = Vec::new();
    for (kind, key, shown, g) in &vouched {
        let old = find(&before, kind, key);
        if old == Some(g) {
            continue;
        }
        let gained: Vec<String> = g
            .groups
            .iter()
            .filter(|x| !old.is_some_and(|o| o.groups.contains(x)))
            .cloned()
            .collect();
        let lost: Vec<String> = old
            .map(|o| {
                o.groups
                    .iter()
                    .filter(|x| !g.groups.contains(x))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let gains =
            old.is_none() || !gained.is_empty() || old.is_some_and(|o| o.username != g.username);
        let basis = gains.then(|| {
            let as_written = find(&after, kind, key).is_some_and(|w| {
                w.username == g.username && g.groups.iter().all(|x| w.groups.contains(x))
            });
            if as_written {
                Basis::AsWritten
            } else if *kind == "role"
                && node_roles.contains(key)
                && g.groups.iter().all(|x| NODE_GROUPS.contains(&x.as_str()))
            {
                Basis::NodeRole
            } else if named.contains(key) {
                Basis::Named
            } else {
                Basis::New
            }
        });
        changes.push(IdentityChange {
            kind,
            identity: shown.clone(),
            before: old.cloned(),
            after: Some(g.clone()),
            gained_groups: gained,
            lost_groups: lost,
            gains,
            basis,
        });
    }
    for (kind, key, shown, g) in &before {
        if find(&vouched, kind, key).is_none() {
            changes.push(IdentityChange {
                kind,
                identity: shown.clone(),
                before: Some(g.clone()),
                after: None,
                gained_groups: Vec::new(),
                lost_groups: g.groups.clone(),
                gains: false,
                basis: None,
            });
        }
    }
    AccessDiff { changes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsauth::effective_from_data;

    const VIEWER: &str = "arn:aws:iam::123456789012:role/viewer";

    fn m(roles: &str) -> EffectiveMapping {
        effective_from_data([("mapRoles", roles)])
    }

    #[test]
    fn a_role_that_gains_masters_over_what_is_written_is_new() {
        let live = m(&format!(
            "- rolearn: {VIEWER}\n  username: v\n  groups: [view-only]\n"
        ));
        let new = m(&format!(
            "- rolearn: {VIEWER}\n  username: v\n  groups: [system:masters]\n"
        ));
        let d = access_diff(&live, &live, &new, &[], &[]);
        assert_eq!(d.new_gains().len(), 1, "{d:?}");
        assert_eq!(d.new_admins(), vec![VIEWER]);
        let line = d.lines().join("\n");
        assert!(
            line.contains("CLUSTER ADMIN") && line.contains("NEW"),
            "{line}"
        );
        // The same grant, when the live aws-auth writes it but does not load it, is a restore.
        let written = new.clone();
        let d = access_diff(&EffectiveMapping::default(), &written, &new, &[], &[]);
        assert!(d.new_gains().is_empty(), "{d:?}");
        assert_eq!(d.changes[0].basis, Some(Basis::AsWritten));
        // Named on the command line.
        let d = access_diff(&live, &live, &new, &[], &[VIEWER.to_string()]);
        assert_eq!(d.changes[0].basis, Some(Basis::Named));
    }

    #[test]
    fn node_roles_with_node_groups_only_and_losses() {
        let node = "arn:aws:iam::123456789012:role/nodes/eks-node";
        let new = m(
            "- rolearn: arn:aws:iam::123456789012:role/eks-node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n",
        );
        let d = access_diff(
            &m(&format!("- rolearn: {VIEWER}\n  username: v\n")),
            &EffectiveMapping::default(),
            &new,
            &[node.to_string()],
            &[],
        );
        assert!(d.new_gains().is_empty(), "{d:?}");
        assert_eq!(d.changes.len(), 2);
        assert!(d.changes[1].after.is_none());
        assert!(
            d.summary().contains("1 identity gains access (0 new)"),
            "{}",
            d.summary()
        );
    }

    #[test]
    fn entries_that_never_match_grant_nothing() {
        let new = m(
            "- rolearn: arn:aws:sts::123456789012:assumed-role/viewer/alice\n  username: a\n  groups: [system:masters]\n",
        );
        let d = access_diff(
            &EffectiveMapping::default(),
            &EffectiveMapping::default(),
            &new,
            &[],
            &[],
        );
        assert!(d.changes.is_empty(), "{d:?}");
    }

    #[test]
    fn a_role_arn_in_map_users_matches_when_map_roles_no_longer_names_it() {
        let live = effective_from_data([
            (
                "mapRoles",
                format!("- rolearn: {VIEWER}\n  username: v\n  groups: [view-only]\n").as_str(),
            ),
            (
                "mapUsers",
                format!("- userarn: {VIEWER}\n  username: a\n  groups: [system:masters]\n")
                    .as_str(),
            ),
        ]);
        let new = effective_from_data([(
            "mapUsers",
            format!("- userarn: {VIEWER}\n  username: a\n  groups: [system:masters]\n").as_str(),
        )]);
        let d = access_diff(&live, &live, &new, &[], &[]);
        assert_eq!(d.new_admins(), vec![VIEWER], "{d:?}");
        assert_eq!(d.new_gains().len(), 1, "{d:?}");
    }

    #[test]
    fn a_consent_names_one_identity_and_approves_nothing_else() {
        let new = effective_from_data([
            (
                "mapRoles",
                format!("- rolearn: {VIEWER}\n  username: v\n  groups: [system:masters]\n")
                    .as_str(),
            ),
            ("mapAccounts", "- \"999999999999\"\n"),
        ]);
        let d = access_diff(
            &EffectiveMapping::default(),
            &EffectiveMapping::default(),
            &new,
            &[],
            &[],
        );
        assert_eq!(d.unconsented(&[]).len(), 2, "{d:?}");
        let left = d.unconsented(&[VIEWER.to_uppercase()]);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].identity, "999999999999");
        assert!(
            d.unconsented(&[VIEWER.into(), "999999999999".into()])
                .is_empty()
        );
        assert_eq!(
            d.unused_consents(&["arn:aws:iam::123456789012:role/other".into()]),
            vec!["arn:aws:iam::123456789012:role/other"]
        );
        // One session of the role approves nothing role-wide (every session gains), and is
        // reported as a session consent, not as a typo.
        let alice = "arn:aws:sts::123456789012:assumed-role/viewer/alice".to_string();
        assert_eq!(d.unconsented(std::slice::from_ref(&alice)).len(), 2);
        assert!(d.unused_consents(std::slice::from_ref(&alice)).is_empty());
        assert_eq!(
            d.session_consents(std::slice::from_ref(&alice)),
            vec![(alice.as_str(), VIEWER.to_string(), true)]
        );
        // A role with a path still names the role itself.
        let with_path = "arn:aws:iam::123456789012:role/team/viewer".to_string();
        assert_eq!(d.unconsented(&[with_path]).len(), 1);
    }
}
