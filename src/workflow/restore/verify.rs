//! Verification after a write: the read-back equals the prediction, the identity used still
//! gets in, each `--verify-as` role gets in as the new aws-auth maps it (retried while the
//! authenticator may not have read it yet).

use super::*;

/// What verification found.
pub struct Verified {
    pub ok: bool,
    pub lines: Vec<String>,
    pub json: serde_json::Value,
}

/// After a write: the read-back equals the prediction, the identity used still gets in, each
/// `--verify-as` role gets in as predicted.
pub async fn verify<C: AwsAuthCluster, U: WriteUi>(
    c: &C,
    ui: &U,
    p: &Prepared,
    w: &WriteOptions,
) -> Verified {
    let mut lines = Vec::new();
    let mut ok = true;
    let mut json = serde_json::Map::new();
    // 1. Read back: the effective mapping must be the predicted one, nothing written lost.
    match c.read_live().await {
        Ok(Some(l)) => {
            let problems = restore::check_written(&p.object, &l.object);
            if problems.is_empty() {
                lines.push(format!(
                    "read back: the effective mapping equals the prediction ({} role, {} user, {} account entries)",
                    p.analysis.effective.roles.len(),
                    p.analysis.effective.users.len(),
                    p.analysis.effective.accounts.len()
                ));
            } else {
                ok = false;
                lines.extend(problems.iter().map(|x| format!("read back: {x}")));
            }
            json.insert(
                "read_back".into(),
                serde_json::json!({"ok": problems.is_empty(), "problems": problems}),
            );
        }
        Ok(None) => {
            ok = false;
            lines.push("read back: kube-system/aws-auth is gone".into());
        }
        Err(e) => {
            ok = false;
            lines.push(format!("read back failed: {e}"));
        }
    }
    // 2. The identity used still gets in.
    match c.whoami().await {
        Ok(who) => {
            lines.push(format!(
                "authenticated as {} → username {}, groups [{}]",
                c.caller_arn(),
                who.username,
                who.groups.join(", ")
            ));
            json.insert("identity".into(), serde_json::json!({"arn": c.caller_arn(), "username": who.username, "groups": who.groups}));
        }
        Err(e) => {
            ok = false;
            lines.push(format!("authenticating as {} failed: {e}", c.caller_arn()));
        }
    }
    // 3. Each --verify-as role is mapped as predicted.
    let mut roles = Vec::new();
    for role in &w.verify_as {
        let (good, line, v) = verify_role(c, ui, p, role, w.wait).await;
        ok &= good;
        lines.push(line);
        roles.push(v);
    }
    json.insert("verify_as".into(), serde_json::Value::Array(roles));
    Verified {
        ok,
        lines,
        json: serde_json::Value::Object(json),
    }
}

/// Nothing to write: `--verify-as` still means "this identity must get in", checked against
/// the live aws-auth (which already is the wanted version); a refused role fails (exit 1).
/// Not in a dry run, which only says what would be done.
pub(super) async fn verify_unchanged<C: AwsAuthCluster, U: WriteUi>(
    g: &Globals,
    c: &C,
    ui: &U,
    p: &Prepared,
    w: &WriteOptions,
) -> Result<(), AppError> {
    if w.verify_as.is_empty() || g.dry_run {
        return Ok(());
    }
    let mut failed = Vec::new();
    for role in &w.verify_as {
        let (good, line, _) = verify_role(c, ui, p, role, w.wait).await;
        ui.status_done();
        ui.err(&format!("  verification: {line}\n"));
        if !good {
            failed.push(role.clone());
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(AppError::failed(
        format!(
            "nothing was written (aws-auth already is this version), but --verify-as failed: {} not let in as required",
            failed.join(", ")
        ),
        Some(format!(
            "map the role in aws-auth (e.g. `eks-breakglass aws-auth edit --cluster {}`), or drop --verify-as",
            c.cluster()
        )),
    ))
}

/// The verdict on one login of a `--verify-as` role, against what the new mapping predicts:
/// `None` while the answer may still change (the mapping not in force yet: retry).
pub fn verify_verdict(
    role: &str,
    expected: &MatchOutcome,
    answer: &Result<LoggedIn, crate::ports::configmap::LoginError>,
) -> Option<(bool, String)> {
    match (expected, answer) {
        (
            MatchOutcome::Mapped {
                username, groups, ..
            },
            Ok(got),
        ) => {
            if &got.username == username && groups.iter().all(|g| got.groups.contains(g)) {
                Some((
                    true,
                    format!(
                        "{role}: authenticated as {} [{}], as the mapping predicts",
                        got.username,
                        got.groups.join(", ")
                    ),
                ))
            } else {
                None
            }
        }
        (MatchOutcome::Mapped { .. }, Err(_)) => None,
        // --verify-as names an identity that must get in (the same meaning as in
        // `recover`): refused is a failed verification, even when the new aws-auth
        // predicted it, because the operator asked for that identity to have access.
        (_, Err(e)) if e.unauthorized => Some((
            false,
            format!(
                "{role}: refused (401): the new aws-auth does not map it, and --verify-as asks that it gets in"
            ),
        )),
        (_, Ok(got)) => Some((
            true,
            format!(
                "{role}: authenticated as {} [{}], though not through aws-auth (an access entry, or the creator)",
                got.username,
                got.groups.join(", ")
            ),
        )),
        (_, Err(e)) => Some((false, format!("{role}: {e}"))),
    }
}

async fn verify_role<C: AwsAuthCluster, U: WriteUi>(
    c: &C,
    ui: &U,
    p: &Prepared,
    role: &str,
    wait: Duration,
) -> (bool, String, serde_json::Value) {
    let (who, login) = match c.assume(role).await {
        Ok(x) => x,
        Err(msg) => {
            return (
                false,
                format!("{role}: {msg}"),
                serde_json::json!({"role": role, "ok": false, "error": msg}),
            );
        }
    };
    let expected = awsauth::match_identity(
        &p.analysis.effective,
        &CallerIdentity {
            arn: who.arn.clone(),
            account: who.account.clone(),
            session_name: None,
            access_key_id: who.access_key_id.clone(),
            ec2_private_dns_name: None,
        },
    );
    let start = Instant::now();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        ui.status(&format!("authenticating as {role} (attempt {attempts})…"));
        let answer = c.whoami_as(&login).await;
        if let Some((good, line)) = verify_verdict(role, &expected, &answer) {
            return (
                good,
                line,
                serde_json::json!({"role": role, "ok": good, "expected": expected, "attempts": attempts}),
            );
        }
        if start.elapsed() >= wait {
            let got = match &answer {
                Ok(w) => format!("username {} groups [{}]", w.username, w.groups.join(", ")),
                Err(e) => e.to_string(),
            };
            return (
                false,
                format!(
                    "{role}: expected {}, the cluster answered {got}",
                    serde_json::to_string(&expected).unwrap_or_default()
                ),
                serde_json::json!({"role": role, "ok": false, "expected": expected, "got": got}),
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
