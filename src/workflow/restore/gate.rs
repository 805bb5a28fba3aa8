//! The consent a new access gain needs: `--yes` never gives it; `--allow-access-gain` naming
//! the identity, or `allow` typed at a terminal, does; a dry run says what a real run needs.

use super::*;

/// Whether a write that grants new access needs its own consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessGate {
    /// The operator wrote every line of the new version (`aws-auth edit`).
    Off,
    /// A version the operator did not write line by line (restore, salvage, rebuild):
    /// new access needs `--allow-access-gain` naming it, or a typed consent. `allowed` are the
    /// identities named.
    On { allowed: Vec<String> },
}

/// The NEW gains of `p` no consent names (identity, line for people), and the consents that
/// name no new gain.
pub fn unconsented_gains(p: &Prepared, gate: &AccessGate) -> (Vec<(String, String)>, Vec<String>) {
    let AccessGate::On { allowed } = gate else {
        return (Vec::new(), Vec::new());
    };
    let new = p
        .access
        .unconsented(allowed)
        .iter()
        .map(|c| (c.identity.clone(), c.describe()))
        .collect();
    let unused = p.access.unused_consents(allowed);
    (new, unused.into_iter().map(str::to_string).collect())
}

/// Asks for (or refuses without) the consent a new access gain needs. In `--dry-run` only says
/// what a real run needs.
pub fn access_gate<U: WriteUi>(
    ui: &U,
    g: &Globals,
    p: &Prepared,
    gate: &AccessGate,
    flag_hint: &str,
) -> Result<(), AppError> {
    let new = access_gate_pending(ui, g, p, gate, flag_hint)?;
    if new.is_empty() {
        return Ok(());
    }
    ui.confirm_access_gain(&new, flag_hint)
}

/// Everything of [`access_gate`] but the question: the NEW gains still to be consented to at a
/// terminal (empty: nothing to ask). Refuses (exit 4) with --yes — decided here, not left to
/// the ui port: --yes alone never approves an access gain — and when the port cannot ask (no
/// terminal); in --dry-run says what a real run needs and asks nothing.
pub fn access_gate_pending<U: WriteUi>(
    ui: &U,
    g: &Globals,
    p: &Prepared,
    gate: &AccessGate,
    flag_hint: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let (new, unused) = unconsented_gains(p, gate);
    if !unused.is_empty() {
        ui.err(&format!(
            "note: --allow-access-gain {}: this write gives no NEW access to that identity (nothing to approve)\n",
            unused.join(", ")
        ));
    }
    let sessions = session_consent_lines(p, gate);
    for l in &sessions {
        ui.err(&format!("note: {l}\n"));
    }
    if new.is_empty() {
        return Ok(Vec::new());
    }
    if g.dry_run {
        let msg = format!(
            "\nThis write grants NEW access ({} identit{}) without a consent naming it; a real run needs {flag_hint}{} (--yes alone is not enough):\n{}\n",
            new.len(),
            if new.len() == 1 { "y" } else { "ies" },
            consent_flags(&new),
            new.iter()
                .map(|(_, l)| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        say(ui, g, &msg);
        return Ok(Vec::new());
    }
    let refusal = |e: AppError| match e {
        AppError::AccessGainNotAllowed(m) if !sessions.is_empty() => {
            AppError::AccessGainNotAllowed(format!("{m}\n{}", sessions.join("\n")))
        }
        e => e,
    };
    if g.yes {
        return Err(refusal(access_gain_refusal(&new, flag_hint)));
    }
    ui.access_gain_askable(&new, flag_hint).map_err(refusal)?;
    Ok(new)
}

/// For each `--allow-access-gain` naming an assumed-role session: why it approves nothing,
/// and what to name instead.
fn session_consent_lines(p: &Prepared, gate: &AccessGate) -> Vec<String> {
    let AccessGate::On { allowed } = gate else {
        return Vec::new();
    };
    p.access
        .session_consents(allowed)
        .into_iter()
        .map(|(session, role, gains)| {
            format!(
                "--allow-access-gain {session}: an assumed-role session ARN approves nothing. aws-auth cannot map one session: {}the whole role {role}, and then EVERYONE who can assume {role} gains it. If that is meant, name the role: --allow-access-gain {role}",
                if gains { "what this write grants goes to " } else { "a grant goes to " }
            )
        })
        .collect()
}
