//! Entry point: parse, set up logging, run one subcommand, turn the outcome into an exit code.

use eks_breakglass::cli::Cli;
use eks_breakglass::error::AppError;
use eks_breakglass::exit;
use std::process::ExitCode;

/// What a process killed by SIGPIPE reports to the shell (128 + 13).
const CLOSED_PIPE: i32 = exit::CLOSED_PIPE as i32;

fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = Cli::parse_args();
    init_tracing(cli.globals.verbose);
    // One TLS crypto provider for the whole process (rustls with ring): kube and the AWS SDK
    // would otherwise each guess.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let verbose = cli.globals.verbose;
    let json = cli.globals.json();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    match runtime.block_on(eks_breakglass::commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            report(&e, verbose, json);
            ExitCode::from(e.exit_code())
        }
    }
}

/// `eks-breakglass policy | head`: when the reader goes away, printing fails with EPIPE, which
/// `println!` turns into a panic and a backtrace. Exit quietly instead, as a process killed by
/// SIGPIPE would (Rust ignores SIGPIPE, so the write error is what we see). Commands that hold
/// temporary credentials write through `commands::out` instead, which returns the error so they
/// can undo first.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.to_string();
        if text.contains("Broken pipe") || text.contains("BrokenPipe") {
            std::process::exit(CLOSED_PIPE);
        }
        default(info);
    }));
}

/// Colour only on a terminal, and never when NO_COLOR is set to anything non-empty
/// (https://no-color.org).
fn use_colour() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("EKS_BREAKGLASS_LOG").unwrap_or_else(|_| {
            // Without -v, the SDK's own warnings (a credentials provider that failed, with
            // its structs) stay quiet: the error we print says what failed and what to do.
            let sdk = if verbose == 0 {
                "aws_config=error,"
            } else {
                ""
            };
            tracing_subscriber::EnvFilter::new(format!("eks_breakglass={level},{sdk}warn"))
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(use_colour())
        .without_time()
        .init();
}

/// Prints the error, its causes (skipping those the message already says, and the SDK's raw
/// error unless -v), and the hint — on stderr, and with `--output json` also as one JSON line on
/// stdout (`{"error": {...}}`), so that a script reading stdout sees why there is no result.
fn report(e: &AppError, verbose: u8, json: bool) {
    eprintln!("error: {e}");
    for c in e.causes(verbose > 0) {
        eprintln!("  caused by: {c}");
    }
    if let Some(h) = e.hint() {
        eprintln!("  hint: {h}");
    }
    // With stdout closed there is nobody to read a JSON error there; an error already in the
    // command's JSON result is not printed a second time (stdout holds one document).
    if json && !matches!(e, AppError::StdoutClosed | AppError::InResult(_)) {
        println!("{}", serde_json::json!({ "error": e.json(verbose > 0) }));
    }
}
