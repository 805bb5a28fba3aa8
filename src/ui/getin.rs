//! What `assume-creator` hands over and prints: the instructions when no change can help, the
//! credentials file (0600), the export lines, the kubeconfig context, and the closing text.
//! The decisions (what is kept, which exec route kubectl gets, the exit) are
//! [`crate::workflow::getin`]'s.

use crate::cli::Globals;
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::exit;
use crate::kubeconfig::{self, ContextEntry};
use aws_credential_types::Credentials;
use base64::Engine as _;
use std::path::{Path, PathBuf};

/// Environment of kubectl's `token` exec plugin.
pub type ExecEnv = Vec<(String, String)>;

pub fn instructions(
    g: &Globals,
    facts: &ClusterFacts,
    why: &str,
    steps: &[String],
) -> Result<u8, AppError> {
    if g.json() {
        println!(
            "{}",
            serde_json::json!({"cluster": facts.name, "route": "instructions", "why": why, "steps": steps})
        );
    } else {
        println!("\nNo change can get you in as the creator: {why}.");
        for (i, s) in steps.iter().enumerate() {
            println!("  {}. {s}", i + 1);
        }
    }
    Ok(exit::CREATOR_UNUSABLE)
}

pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Writes the credentials as profile `profile` into an AWS shared-credentials file: only that
/// section is replaced, the rest kept, the previous file backed up first, mode 0600.
pub fn write_credentials_file(
    path: &Path,
    profile: &str,
    c: &Credentials,
) -> Result<Option<PathBuf>, AppError> {
    let mut lines = vec![
        "# written by eks-breakglass assume-creator; remove this section (and run `eks-breakglass cleanup`) when done".to_string(),
        format!("aws_access_key_id = {}", c.access_key_id()),
        format!("aws_secret_access_key = {}", c.secret_access_key()),
    ];
    if let Some(t) = c.session_token() {
        lines.push(format!("aws_session_token = {t}"));
    }
    if let Some(exp) = c.expiry() {
        let at: chrono::DateTime<chrono::Utc> = exp.into();
        lines.insert(
            1,
            format!(
                "# these session credentials expire at {} (STS refuses them after: ExpiredToken)",
                at.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        );
    }
    crate::credfile::write_profile(path, profile, &lines).map_err(|e| {
        AppError::failed(
            format!("cannot write the credentials file {}: {e}", path.display()),
            Some("choose another --credentials-file path".to_string()),
        )
    })
}

/// ", expire at …, in N min" for session credentials (a temporary key never expires by itself).
pub fn expiry_note(c: &Credentials) -> String {
    match c.expiry() {
        Some(exp) => {
            let at: chrono::DateTime<chrono::Utc> = exp.into();
            let mins = (at - chrono::Utc::now()).num_minutes().max(0);
            format!(
                "; they expire at {} (in {mins} min): assume again after that",
                at.format("%Y-%m-%dT%H:%M:%SZ")
            )
        }
        None => String::new(),
    }
}

pub fn print_env(c: &Credentials) -> Result<(), AppError> {
    let token = match c.session_token() {
        Some(t) => format!("export AWS_SESSION_TOKEN={t}"),
        None => "unset AWS_SESSION_TOKEN".to_string(),
    };
    let note = expiry_note(c);
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("# session credentials{note}\n")
    };
    super::out(&format!(
        "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\n{token}\n{note}",
        c.access_key_id(),
        c.secret_access_key()
    ))
}

pub fn write_kubeconfig(
    kubeconfig_path: Option<&Path>,
    context: &str,
    facts: &ClusterFacts,
    region: &str,
    role_arn: Option<&str>,
    profile: Option<&str>,
    exec_env: Vec<(String, String)>,
) -> Result<PathBuf, AppError> {
    let path = kubeconfig::default_path(kubeconfig_path)?;
    let existing = kubeconfig::read(&path)?;
    let server = facts.endpoint.clone().ok_or_else(|| {
        AppError::failed(format!("cluster {} has no API endpoint", facts.name), None)
    })?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| AppError::failed(format!("cannot find this program's path: {e}"), None))?;
    let mut exec_args = vec![
        "token".to_string(),
        "--cluster".into(),
        facts.name.clone(),
        "--region".into(),
        region.to_string(),
    ];
    if let Some(r) = role_arn {
        exec_args.push("--role-arn".into());
        exec_args.push(r.to_string());
    }
    if let Some(p) = profile {
        exec_args.push("--profile".into());
        exec_args.push(p.to_string());
    }
    let entry = ContextEntry {
        cluster_name: if facts.arn.is_empty() {
            facts.name.clone()
        } else {
            facts.arn.clone()
        },
        server,
        ca_data_b64: facts
            .ca_pem
            .as_ref()
            .map(|pem| base64::engine::general_purpose::STANDARD.encode(pem)),
        tls_server_name: None,
        context_name: context.to_string(),
        exec_command: exe.to_string_lossy().into_owned(),
        exec_args,
        exec_env,
    };
    let merged = kubeconfig::merge(&path, existing.as_deref(), &entry)?;
    kubeconfig::write_private_atomic(&path, merged.as_bytes()).map_err(|e| {
        kubeconfig::KubeconfigError::Write {
            path: path.clone(),
            source: e,
        }
    })?;
    Ok(path)
}

/// The line that says who the creator is.
pub fn creator_line(
    cluster: &str,
    c: &crate::recovery::creator::Creator,
    status: Option<&crate::recovery::principal::PrincipalStatus>,
) -> String {
    format!(
        "Creator of {cluster}: {} ({}){}",
        c.arn,
        c.kind.describe(),
        status
            .map(|s| format!(" — {}", s.summary))
            .unwrap_or_default()
    )
}

/// The end of an `assume-creator` run, for people.
pub struct End {
    pub dir: Option<PathBuf>,
    pub verification: crate::ports::kube::Verification,
    pub handed: Vec<String>,
    pub end_lines: Vec<String>,
    pub undo: Option<String>,
    pub next: Option<String>,
}

impl End {
    /// One JSON document `doc` (the error, if any, in it), or the closing text.
    pub fn render(
        self,
        json: bool,
        mut doc: serde_json::Value,
        result: Result<u8, AppError>,
    ) -> Result<u8, AppError> {
        if json {
            let result = result.map_err(|e| e.into_result(&mut doc));
            println!("{doc}");
            return result;
        }
        if let Some(d) = &self.dir {
            println!("\nApplied. Journal: {}", d.display());
        }
        println!(
            "Verification as the creator: {}",
            self.verification.describe()
        );
        for h in &self.handed {
            println!("Hand-over: {h}");
        }
        for l in &self.end_lines {
            println!("Run end: {l}");
        }
        if let Some(u) = &self.undo {
            println!("Undo: {u}");
        }
        if let Some(n) = &self.next {
            println!("Next: {n}");
        }
        result
    }
}

/// Writes the credentials into `path` as `profile` (0600, other profiles kept): the line said
/// about it.
pub fn hand_over_file(path: &Path, profile: &str, creds: &Credentials) -> Result<String, AppError> {
    let backup = write_credentials_file(path, profile, creds)?;
    Ok(format!(
        "credentials written to {} (profile {profile}, mode 0600; other profiles kept{}){}",
        path.display(),
        backup
            .map(|b| format!(", previous file backed up to {}", b.display()))
            .unwrap_or_default(),
        expiry_note(creds)
    ))
}

/// Where and how the kubeconfig context is written.
pub struct KubeconfigTo<'a> {
    pub file: Option<&'a Path>,
    pub alias: Option<&'a str>,
    pub credentials_file: Option<&'a Path>,
    /// The credentials-file profile the creator's credentials were written as.
    pub profile: &'a str,
    /// The operator's own `--profile` (the exec plugin keeps it).
    pub operator_profile: Option<&'a str>,
}

/// Writes the kubeconfig context the workflow chose ([`KubeconfigExec`]): the line said about
/// it, or why none was written. The profile is passed as `token --profile`, which wins over keys
/// exported in the shell kubectl runs from (AWS_PROFILE would lose to them).
pub fn hand_over_kubeconfig(
    exec: &crate::workflow::getin::KubeconfigExec,
    to: &KubeconfigTo<'_>,
    facts: &ClusterFacts,
    region: &str,
) -> Result<String, AppError> {
    use crate::workflow::getin::KubeconfigExec;
    let context = to
        .alias
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}-creator", facts.name));
    let (env, role, profile_arg) = match (exec, to.credentials_file) {
        (KubeconfigExec::CredentialsFile, Some(path)) => (
            vec![(
                "AWS_SHARED_CREDENTIALS_FILE".to_string(),
                absolute(path).to_string_lossy().into_owned(),
            )],
            None,
            Some(to.profile),
        ),
        (KubeconfigExec::Operator { role }, _) => (Vec::new(), *role, to.operator_profile),
        (KubeconfigExec::None { why }, _) => return Ok(why.to_string()),
        (KubeconfigExec::CredentialsFile, None) => (Vec::new(), None, None),
    };
    let path = write_kubeconfig(to.file, &context, facts, region, role, profile_arg, env)?;
    Ok(format!(
        "kubeconfig context {context} in {}",
        path.display()
    ))
}

/// The credentials as the JSON document's `env` (only when `--print-env` asked for them).
pub fn env_json(creds: &Credentials) -> serde_json::Value {
    serde_json::json!({
        "AWS_ACCESS_KEY_ID": creds.access_key_id(),
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key(),
        "AWS_SESSION_TOKEN": creds.session_token(),
    })
}

/// Says why a temporary key outlives the run although `--keep` was not given.
pub fn note_kept(kept_for_hand_over: bool) {
    if kept_for_hand_over {
        eprintln!(
            "note: the temporary key is kept because you asked for it to be handed over; remove it with `eks-breakglass cleanup`"
        );
    }
}
