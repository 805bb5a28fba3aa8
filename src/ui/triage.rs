//! The triage for people: what `diagnose` prints, and what `recover` shows before it acts.

use crate::recovery::diagnosis::CallerAccess;
use crate::workflow::triage::Triage;

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// The triage for people.
pub fn render(t: &Triage) -> String {
    render_parts(t, true)
}

/// The triage as `recover` shows it: without the "Next: eks-breakglass recover" line, which
/// would tell the operator to start what is already running.
pub fn render_in_recover(t: &Triage) -> String {
    render_parts(t, false)
}

fn render_parts(t: &Triage, next: bool) -> String {
    let c = &t.cluster;
    let mut s = format!(
        "Cluster {} ({}): {}, Kubernetes {}, platform {}\n",
        c.name,
        c.region,
        c.status.as_deref().unwrap_or("?"),
        c.version.as_deref().unwrap_or("?"),
        c.platform_version.as_deref().unwrap_or("?")
    );
    let r = &t.reachability;
    s.push_str(&format!(
        "  endpoint:    {} (public: {}, private: {}) — {}\n",
        r.server,
        yes_no(c.endpoint_public_access),
        yes_no(c.endpoint_private_access),
        if r.tcp && r.tls != Some(false) {
            format!("reachable from here ({} ms)", r.ms)
        } else {
            format!("NOT reachable from here: {}", r.detail)
        }
    ));
    s.push_str(&format!(
        "  auth mode:   {}{}; creator admin: {}\n",
        c.effective_auth_mode().as_str(),
        if c.auth_mode.is_none() {
            " (no accessConfig: legacy)"
        } else {
            ""
        },
        yes_no(c.bootstrap_creator_admin)
    ));
    s.push_str(&format!("\nYou: {}\n", t.caller.arn));
    s.push_str(&format!(
        "  Kubernetes:  {}\n",
        match &t.access {
            CallerAccess::Authenticated {
                username, groups, ..
            } => format!("authenticated as {username} [{}]", groups.join(", ")),
            CallerAccess::Unauthorized =>
                "LOCKED OUT: 401 Unauthorized (your identity is not mapped; aws-auth is the usual cause)"
                    .into(),
            CallerAccess::Unknown { reason } => format!("could not ask: {reason}"),
        }
    ));
    let a = &t.aws_auth;
    s.push_str("\naws-auth: ");
    if a.readable {
        s.push_str(&format!(
            "{} error(s), {} warning(s); loaded {} role(s), {} user(s), {} account(s)\n",
            a.errors, a.warnings, a.roles, a.users, a.accounts
        ));
        for p in &a.problems {
            s.push_str(&format!("  - {p}\n"));
        }
        for n in &a.node_roles_missing {
            s.push_str(&format!(
                "  - node role not mapped: {n} (its nodes go NotReady)\n"
            ));
        }
    } else {
        s.push_str(&format!("{}\n", a.detail));
    }
    if let Some(e) = &t.node_roles_error {
        s.push_str(&format!(
            "  node roles: could not be listed ({e}): whether aws-auth maps them was not checked\n"
        ));
    }
    if !t.node_roles.is_empty() {
        s.push_str(&format!(
            "  node roles the cluster has: {}\n",
            t.node_roles
                .iter()
                .map(|r| r.arn.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s.push_str("\nCreator: ");
    match (&t.creator, &t.creator_error) {
        (Some(rep), _) => match &rep.creator {
            Some(cr) => {
                s.push_str(&format!(
                    "{} ({}, from {})\n",
                    cr.arn,
                    cr.kind.describe(),
                    cr.source.describe()
                ));
                if let Some(st) = &rep.status {
                    s.push_str(&format!("  status: {}\n", st.summary));
                }
            }
            None => s.push_str(&format!("not found: {}\n", rep.verdict.reason)),
        },
        (None, Some(e)) => s.push_str(&format!("could not be searched: {e}\n")),
        (None, None) => s.push_str("not searched\n"),
    }
    for n in &t.notes {
        s.push_str(&format!("\n! {n}\n"));
    }
    s.push_str("\nWays back in (best first):\n");
    for (i, p) in t.paths.iter().enumerate() {
        s.push_str(&format!("  {}. {}\n", i + 1, p.title));
        s.push_str(&format!("     why:   {}\n", p.reason));
        if !p.needs.is_empty() {
            s.push_str(&format!("     needs: {}\n", p.needs.join(", ")));
        }
        s.push_str(&format!("     run:   {}\n", p.command));
    }
    if next && let Some(cmd) = &t.next {
        s.push_str(&format!("\nNext: {cmd}\n"));
    }
    s.push_str(&format!("(triage took {} ms)\n", t.elapsed_ms));
    s
}
