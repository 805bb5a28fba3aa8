//! `completions SHELL`: shell completion scripts generated from the clap definitions.

use crate::error::AppError;
use crate::exit;
use clap::Args;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass completions bash > /etc/bash_completion.d/eks-breakglass\n  eks-breakglass completions zsh > \"${fpath[1]}/_eks-breakglass\""
)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    pub shell: clap_complete::Shell,
}

pub fn run(args: &CompletionsArgs) -> Result<u8, AppError> {
    let mut cmd = crate::cli::command();
    clap_complete::generate(
        args.shell,
        &mut cmd,
        "eks-breakglass",
        &mut std::io::stdout(),
    );
    Ok(exit::OK)
}
