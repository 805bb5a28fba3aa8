//! Where a restore's new version comes from: `--from` checked against the other flags, a
//! file, a snapshot (local or S3), salvage of the live object.

use super::*;

/// Where a restore's new version comes from (`--from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// What still parses in the live aws-auth.
    Salvage,
    /// Node group and Fargate roles from EKS, plus each `--admin-role`.
    Rebuild,
    /// Snapshots under `s3://BUCKET/PREFIX`.
    S3(String),
    /// Snapshots under a local directory.
    Dir(PathBuf),
    /// One file (or `-`).
    File(String),
}

/// What `aws-auth restore` was asked, as plain options.
#[derive(Debug, Clone, Default)]
pub struct RestoreRequest {
    pub cluster: String,
    pub from: String,
    pub at: Option<String>,
    pub exact: bool,
    pub admin_roles: Vec<String>,
    pub salvage_fix_arns: Vec<String>,
    pub allow_access_gain: Vec<String>,
}

impl RestoreRequest {
    /// The source `--from` names, after the flag combinations that cannot apply are refused
    /// (before anything is read).
    pub fn source(&self) -> Result<Source, AppError> {
        if self.at.is_some() && matches!(self.from.as_str(), "salvage" | "rebuild") {
            return Err(AppError::usage(
                "--at applies to snapshot sources only",
                None,
            ));
        }
        if !self.salvage_fix_arns.is_empty() && self.from != "salvage" {
            return Err(AppError::usage(
                "--salvage-fix-arns applies to --from salvage only",
                Some("fix the ARNs in the source file instead".to_string()),
            ));
        }
        if !self.admin_roles.is_empty() && self.from != "rebuild" {
            return Err(AppError::usage(
                "--admin-role applies to --from rebuild only",
                Some("add roles to the source file instead".to_string()),
            ));
        }
        for r in &self.admin_roles {
            refuse_session_arn("--admin-role", r)?;
        }
        let source = match self.from.as_str() {
            "salvage" => Source::Salvage,
            "rebuild" => Source::Rebuild,
            s if s.starts_with("s3://") => Source::S3(s.to_string()),
            s if Path::new(s).is_dir() => Source::Dir(PathBuf::from(s)),
            s => Source::File(s.to_string()),
        };
        if let (Some(at), Source::File(f)) = (&self.at, &source) {
            return Err(AppError::usage(
                format!(
                    "--at {at}: --at needs a snapshot directory or s3:// URL, and {f} is a file (or does not exist)"
                ),
                Some(
                    "drop --at to restore the file, or give --from the snapshot directory (`aws-auth snapshot --to DIR`)"
                        .to_string(),
                ),
            ));
        }
        Ok(source)
    }
}

pub(super) fn candidate_error(e: restore::CandidateError) -> AppError {
    AppError::usage(
        e.to_string(),
        Some(
            "give an aws-auth with mapRoles/mapUsers/mapAccounts as strings (`data.mapRoles: |`)"
                .to_string(),
        ),
    )
}

/// The live ConfigMap as an aws-auth document (metadata kept, for rendering).
pub fn live_document(cluster: &str, live: &LiveAwsAuth) -> Result<AwsAuthDocument, AppError> {
    AwsAuthDocument::from_live_json(&format!("cluster/{cluster}"), &live.raw_json)
        .map_err(input_error)
}

/// A candidate from bytes read from `origin`.
pub fn candidate_from_bytes(origin: &str, bytes: &[u8]) -> Result<Candidate, AppError> {
    candidate_for_cluster(origin, bytes, None, None)
}

/// A candidate from bytes read from `origin`, refused when it says it is for another cluster
/// (an eksctl ClusterConfig's metadata.name / metadata.region).
pub fn candidate_for_cluster(
    origin: &str,
    bytes: &[u8],
    cluster: Option<&str>,
    region: Option<&str>,
) -> Result<Candidate, AppError> {
    let doc = awsauth::read_document(origin, bytes).map_err(input_error)?;
    if let Some(cluster) = cluster {
        restore::check_written_for(origin, doc.written_for.as_ref(), cluster, region).map_err(
            |e| {
                AppError::usage(
                    e.to_string(),
                    Some(format!(
                        "give the aws-auth (or the eksctl ClusterConfig) of {cluster} itself"
                    )),
                )
            },
        )?;
    }
    restore::candidate_from_document(&doc).map_err(candidate_error)
}

/// `--at TIME`, parsed.
pub fn parse_at(at: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    at.map(|a| {
        snapshot::parse_at(a).ok_or_else(|| {
            AppError::usage(
                format!("--at {a}: not a time"),
                Some("use RFC 3339 (2026-01-02T10:00:00Z), a date (2026-01-02) or a snapshot name (20260102T100000Z)".to_string()),
            )
        })
    })
    .transpose()
}

/// Reads the snapshot of `cluster` under a local directory.
pub fn snapshot_from_dir(
    dir: &Path,
    cluster: &str,
    at: Option<&str>,
) -> Result<Candidate, AppError> {
    let at_time = parse_at(at)?;
    let history = dir.join(cluster);
    let mut names: Vec<String> = std::fs::read_dir(&history)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let path = match snapshot::pick(&names, at_time) {
        Some(name) => dir.join(snapshot::yaml_path(cluster, name)),
        None if at_time.is_none() && dir.join(snapshot::yaml_name(cluster)).is_file() => {
            dir.join(snapshot::yaml_name(cluster))
        }
        None => {
            return Err(AppError::usage(
                format!(
                    "no snapshot of {cluster} in {}{}",
                    dir.display(),
                    at.map(|a| format!(" taken at or before {a}"))
                        .unwrap_or_default()
                ),
                Some(format!(
                    "snapshots taken: {}; take one with `eks-breakglass aws-auth snapshot --cluster {cluster} --to {}`",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    },
                    dir.display()
                )),
            ));
        }
    };
    let bytes = read_input(&path.display().to_string())?;
    candidate_from_bytes(&format!("snapshot {}", path.display()), &bytes)
}

/// The snapshot to restore among those under `url` (sorted names of snapshot directories):
/// the key of its YAML under `prefix`, relative to the prefix.
pub fn pick_s3_snapshot(
    url: &str,
    cluster: &str,
    mut names: Vec<String>,
    at: Option<&str>,
) -> Result<String, AppError> {
    let at_time = parse_at(at)?;
    names.sort();
    let Some(name) = snapshot::pick(&names, at_time) else {
        return Err(AppError::usage(
            format!("no snapshot of {cluster} under {url}"),
            Some(format!(
                "take one with `eks-breakglass aws-auth snapshot --cluster {cluster} --to {url}`"
            )),
        ));
    };
    Ok(snapshot::yaml_path(cluster, name))
}

/// The candidate `--from salvage` makes of the live object, with what salvage changed or lost
/// (printed as `salvage: …` lines).
pub fn salvage<U: WriteUi>(
    ui: &U,
    cluster: &str,
    live: Option<&LiveAwsAuth>,
    fixes: &[String],
) -> Result<Candidate, AppError> {
    let live = live.ok_or_else(|| {
        AppError::usage(
            format!("{cluster} has no aws-auth to salvage"),
            Some("use --from rebuild, a snapshot or a file".to_string()),
        )
    })?;
    let (c, report) = restore::salvage_candidate(&live.object, fixes).map_err(candidate_error)?;
    for (what, items) in [("changed", &report.changed), ("lost", &report.lost)] {
        for item in items {
            ui.err(&format!(
                "salvage: {what}: {} line {}: {}\n",
                item.section, item.line, item.message
            ));
        }
    }
    Ok(c)
}
