//! One file per subcommand: parse arguments, call the domain and adapters, render.

pub mod assume_creator;
pub mod audit;
pub mod aws_auth;
pub mod aws_auth_edit;
pub mod aws_auth_snapshot;
pub mod aws_auth_write;
pub mod cleanup;
pub mod completions;
pub mod creator;
pub mod diagnose;
pub mod fix_entries;
pub mod grant;
pub mod kubeconfig;
pub mod man;
pub mod migrate;
pub mod policy;
pub mod record;
pub mod recover;
pub mod reveal_creator;
pub mod token;
pub mod version;

use crate::cli::{AwsAuthCommand, Cli, Command};
use crate::error::AppError;

pub use crate::ui::out;

/// Runs the chosen subcommand; the result is the process exit code.
pub async fn run(cli: Cli) -> Result<u8, AppError> {
    let g = &cli.globals;
    let name = match &cli.command {
        Command::Audit(_) => "audit",
        Command::AwsAuth(AwsAuthCommand::Lint(_)) => "aws-auth lint",
        _ => "this command",
    };
    g.check_output(name)?;
    let result = match &cli.command {
        Command::Token(a) => token::run(g, a).await,
        Command::Kubeconfig(a) => kubeconfig::run(g, a).await,
        Command::Completions(a) => completions::run(a),
        Command::Version(a) => version::run(g, a),
        Command::Man(a) => man::run(g, a),
        Command::Grant(a) => grant::run(g, a).await,
        Command::Migrate(a) => migrate::run(g, a).await,
        Command::FixEntries(a) => fix_entries::run(g, a).await,
        Command::RevealCreator(a) => reveal_creator::run(g, a).await,
        Command::AssumeCreator(a) => assume_creator::run(g, a).await,
        Command::Cleanup(a) => cleanup::run(g, a).await,
        Command::Creator(a) => creator::run(g, a).await,
        Command::Diagnose(a) => diagnose::run(g, a).await,
        Command::Recover(a) => recover::run(g, a).await,
        Command::AwsAuth(c) => match c {
            AwsAuthCommand::Lint(a) => aws_auth::run_lint(g, a).await,
            AwsAuthCommand::Show(a) => aws_auth::run_show(g, a).await,
            AwsAuthCommand::Salvage(a) => aws_auth::run_salvage(g, a).await,
            AwsAuthCommand::Render(a) => aws_auth::run_render(g, a).await,
            AwsAuthCommand::Diff(a) => aws_auth::run_diff(g, a).await,
            AwsAuthCommand::Rules => aws_auth::rules(g),
            AwsAuthCommand::Restore(a) => aws_auth_write::restore(g, a).await,
            AwsAuthCommand::Edit(a) => aws_auth_edit::run(g, a).await,
            AwsAuthCommand::Snapshot(a) => aws_auth_snapshot::run(g, a).await,
        },
        Command::Record(a) => record::run(g, a).await,
        Command::Audit(a) => audit::run(g, a).await,
        Command::Policy(a) => policy::run(g, a).await,
    };
    // The call log is written whatever the outcome: a failed run is when it matters most.
    if let Some(path) = &g.call_log
        && let Err(e) = g.calls.write_jsonl(path)
    {
        eprintln!("warning: cannot write the call log {}: {e}", path.display());
    }
    result
}
