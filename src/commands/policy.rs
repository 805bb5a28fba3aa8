//! `policy`: print the minimum IAM policy of a command (or of all), from [`crate::policy`].

use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::policy;
use clap::Args;
use std::collections::BTreeMap;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass policy aws-auth restore > eks-breakglass-restore.json\n  \
eks-breakglass policy > eks-breakglass-all.json\n  \
eks-breakglass policy assume-creator --explain\n  \
aws iam create-policy --policy-name eks-breakglass --policy-document \"$(eks-breakglass policy)\"\n\n\
The policy allows each action on Resource \"*\"; docs/permissions.md shows how to narrow it to\n\
your clusters and roles. sts:GetCallerIdentity needs no permission and is not listed.\n\
Kubernetes access (reading aws-auth) is RBAC, not IAM. completions and policy call no AWS API."
)]
pub struct PolicyArgs {
    /// The command, e.g. `grant`, `aws-auth restore` (or just `restore`); default: every
    /// command together
    #[arg(value_name = "COMMAND", num_args = 0..=2)]
    pub command: Vec<String>,
    /// List each action with the reason it is needed, instead of the policy document
    #[arg(long)]
    pub explain: bool,
}

pub async fn run(g: &Globals, args: &PolicyArgs) -> Result<u8, AppError> {
    let joined = args.command.join(" ");
    // The canonical name (`restore` -> `aws-auth restore`), for filtering the explanation.
    let canonical = policy::find(&joined).map(|c| c.command);
    let name = if args.command.is_empty() {
        None
    } else {
        Some(canonical.unwrap_or(joined.as_str()))
    };
    let perms = policy::permissions(name).ok_or_else(|| {
        AppError::usage(
            format!(
                "no policy for '{}': it is not a command that calls AWS",
                name.unwrap_or_default()
            ),
            Some(format!(
                "commands with a policy: {}",
                policy::command_names().join(", ")
            )),
        )
    })?;
    if !args.explain {
        let doc = policy::document(&perms);
        let text = serde_json::to_string_pretty(&doc)
            .map_err(|e| AppError::failed(format!("cannot render JSON: {e}"), None))?;
        out(&(text + "\n"));
        return Ok(exit::OK);
    }
    // action -> (reasons, commands)
    let mut rows: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for c in policy::COMMANDS {
        if name.is_some_and(|n| n != c.command) {
            continue;
        }
        for p in c.all() {
            let row = rows.entry(p.action).or_default();
            if !row.0.contains(&p.why) {
                row.0.push(p.why);
            }
            row.1.push(c.command);
        }
    }
    if g.json() {
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|(action, (why, commands))| {
                serde_json::json!({"action": action, "why": why, "commands": commands})
            })
            .collect();
        out(&format!("{}\n", serde_json::Value::Array(items)));
        return Ok(exit::OK);
    }
    let width = rows.keys().map(|a| a.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (action, (why, commands)) in &rows {
        let used_by = if name.is_none() {
            format!(" [{}]", commands.join(", "))
        } else {
            String::new()
        };
        out.push_str(&format!("{action:<width$}  {}{used_by}\n", why.join("; ")));
    }
    self::out(&out);
    Ok(exit::OK)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a message.
fn out(text: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
}
