//! What the user hands the tool: aws-auth manifests from a file or stdin, bounded in size, and
//! the errors that name what is wrong with them and how to get a good one.

use crate::awsauth::{self, AwsAuthDocument};
use crate::error::AppError;
use std::io::Read;

/// The most an input file may hold. Kubernetes limits a ConfigMap's data to 1 MiB; a manifest
/// adds metadata (annotations are limited to 256 KiB), so anything over 2 MiB cannot be an
/// aws-auth the API server would have stored — and is refused without being read.
pub const INPUT_LIMIT: u64 = 2 * 1024 * 1024;

fn too_large(what: &str, size: Option<u64>) -> AppError {
    let size = size.map_or_else(|| "more than 2 MiB".to_string(), |n| format!("{n} bytes"));
    AppError::usage(
        format!(
            "{what} is {size}: larger than any aws-auth ConfigMap (Kubernetes limits a ConfigMap's data to 1 MiB)"
        ),
        Some("give the aws-auth ConfigMap itself (`kubectl -n kube-system get configmap aws-auth -o yaml`), not a bundle or a log".into()),
    )
}

pub fn read_input(path: &str) -> Result<Vec<u8>, AppError> {
    let read_err = |e: std::io::Error| {
        AppError::usage(
            format!("cannot read {path}: {e}"),
            Some("give the path of an aws-auth ConfigMap manifest, or - for stdin".into()),
        )
    };
    let mut buf = Vec::new();
    if path == "-" {
        // Read one byte past the limit at most: a 50 MB pipe is refused, not buffered.
        std::io::stdin()
            .take(INPUT_LIMIT + 1)
            .read_to_end(&mut buf)
            .map_err(|e| AppError::usage(format!("cannot read stdin: {e}"), None))?;
        if buf.len() as u64 > INPUT_LIMIT {
            return Err(too_large("stdin", None));
        }
    } else {
        let file = std::fs::File::open(path).map_err(read_err)?;
        if let Ok(meta) = file.metadata()
            && meta.is_file()
            && meta.len() > INPUT_LIMIT
        {
            return Err(too_large(path, Some(meta.len())));
        }
        file.take(INPUT_LIMIT + 1)
            .read_to_end(&mut buf)
            .map_err(read_err)?;
        if buf.len() as u64 > INPUT_LIMIT {
            return Err(too_large(path, None));
        }
    }
    Ok(buf)
}

pub fn input_error(e: awsauth::InputError) -> AppError {
    let hint = match &e {
        awsauth::InputError::WrongName { .. } => {
            Some("export it with: kubectl -n kube-system get configmap aws-auth -o yaml".into())
        }
        awsauth::InputError::TooLarge { .. } => {
            Some("split it, or check that this is the aws-auth the cluster holds".into())
        }
        awsauth::InputError::Empty { .. } | awsauth::InputError::Binary { .. } => {
            Some("give a ConfigMap manifest in YAML or JSON".into())
        }
        _ => Some(
            "expected a ConfigMap named aws-auth (YAML or JSON), kubectl get -o yaml output, or an eksctl ClusterConfig".into(),
        ),
    };
    AppError::usage(e.to_string(), hint)
}

/// Reads and parses an aws-auth manifest (`-` for stdin).
pub fn read_doc(path: &str) -> Result<AwsAuthDocument, AppError> {
    let bytes = read_input(path)?;
    let origin = if path == "-" { "<stdin>" } else { path };
    let doc = awsauth::read_document(origin, &bytes).map_err(input_error)?;
    // Over 1 MiB of data (as the API server counts it) is refused by read_document.
    Ok(doc)
}

/// Reads every file of `paths`; with several, each read error is also said on stderr as it
/// happens (the lint report counts it as not linted).
pub fn read_docs(paths: &[String]) -> Vec<Result<crate::awsauth::AwsAuthDocument, AppError>> {
    paths
        .iter()
        .map(|path| {
            let doc = read_doc(path);
            if let Err(e) = &doc
                && paths.len() > 1
            {
                eprintln!("error: {e}");
            }
            doc
        })
        .collect()
}
