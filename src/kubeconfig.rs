//! Writing a break-glass context into a kubeconfig, the way `aws eks update-kubeconfig` does.
//!
//! The file may hold a team's other clusters: only our cluster, user and context entries are
//! added or replaced, everything else is kept as it was. The write is atomic (temporary file in
//! the same directory, fsync, rename) and the file is 0600, because a kubeconfig is a secret.

use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// What went wrong with the kubeconfig file.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("cannot read kubeconfig {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("kubeconfig {path} is not valid YAML: {detail}")]
    Malformed { path: PathBuf, detail: String },
    #[error("kubeconfig {path} is not a kubeconfig: {detail}")]
    NotAKubeconfig { path: PathBuf, detail: String },
    #[error("cannot write kubeconfig {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no home directory to put ~/.kube/config in")]
    NoHome,
}

impl KubeconfigError {
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            KubeconfigError::Malformed { .. } | KubeconfigError::NotAKubeconfig { .. }
        )
    }

    pub fn hint(&self) -> Option<String> {
        Some(match self {
            KubeconfigError::Read { .. } => {
                "check the file's permissions, or write a new file with --kubeconfig PATH".into()
            }
            KubeconfigError::Malformed { .. } | KubeconfigError::NotAKubeconfig { .. } => {
                "the file was left untouched; fix it, or write to a new file with --kubeconfig PATH"
                    .into()
            }
            KubeconfigError::Write { .. } => {
                "check that the directory exists and is writable, or choose --kubeconfig PATH"
                    .into()
            }
            KubeconfigError::NoHome => "pass --kubeconfig PATH".into(),
        })
    }
}

/// The context to add: one cluster, one user with an exec plugin, one context.
#[derive(Debug, Clone)]
pub struct ContextEntry {
    /// Name of the cluster entry (the cluster ARN, as aws-cli does).
    pub cluster_name: String,
    pub server: String,
    /// base64 of the CA PEM, as DescribeCluster returns it.
    pub ca_data_b64: Option<String>,
    /// `--tls-server-name`, for tunnels.
    pub tls_server_name: Option<String>,
    /// Context name (alias or the cluster ARN); the user entry gets the same name.
    pub context_name: String,
    pub exec_command: String,
    pub exec_args: Vec<String>,
    pub exec_env: Vec<(String, String)>,
}

/// The kubeconfig path: `--kubeconfig`, else the first path in KUBECONFIG, else ~/.kube/config.
pub fn default_path(explicit: Option<&Path>) -> Result<PathBuf, KubeconfigError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Ok(k) = std::env::var("KUBECONFIG")
        && let Some(first) = std::env::split_paths(&k).find(|p| !p.as_os_str().is_empty())
    {
        return Ok(first);
    }
    dirs::home_dir()
        .map(|h| h.join(".kube").join("config"))
        .ok_or(KubeconfigError::NoHome)
}

/// Reads the existing file (missing or empty = a new kubeconfig).
pub fn read(path: &Path) -> Result<Option<String>, KubeconfigError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| KubeconfigError::Malformed {
                path: path.to_path_buf(),
                detail: "not UTF-8 text".into(),
            })?;
            Ok(Some(text))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(KubeconfigError::Read {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// Merges `entry` into `existing` (YAML text) and returns the new document.
pub fn merge(
    path: &Path,
    existing: Option<&str>,
    entry: &ContextEntry,
) -> Result<String, KubeconfigError> {
    let mut doc: Value = match existing.filter(|t| !t.trim().is_empty()) {
        None => json!({"apiVersion": "v1", "kind": "Config", "preferences": {}}),
        Some(text) => {
            serde_saphyr::from_str::<Value>(text).map_err(|e| KubeconfigError::Malformed {
                path: path.to_path_buf(),
                detail: e.to_string().lines().next().unwrap_or_default().to_string(),
            })?
        }
    };
    let not_kc = |detail: &str| KubeconfigError::NotAKubeconfig {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    let obj = match &mut doc {
        Value::Null => {
            doc = json!({"apiVersion": "v1", "kind": "Config", "preferences": {}});
            doc.as_object_mut().ok_or_else(|| not_kc("internal"))?
        }
        Value::Object(o) => o,
        _ => return Err(not_kc("the top level is not a mapping")),
    };
    if let Some(kind) = obj.get("kind")
        && kind != "Config"
    {
        return Err(not_kc(&format!("kind is {kind}, expected Config")));
    }
    obj.entry("apiVersion").or_insert_with(|| json!("v1"));
    obj.entry("kind").or_insert_with(|| json!("Config"));

    let mut cluster = Map::new();
    if let Some(ca) = &entry.ca_data_b64 {
        cluster.insert("certificate-authority-data".into(), json!(ca));
    }
    cluster.insert("server".into(), json!(entry.server));
    if let Some(sni) = &entry.tls_server_name {
        cluster.insert("tls-server-name".into(), json!(sni));
    }
    upsert(
        obj,
        "clusters",
        &entry.cluster_name,
        json!({"cluster": cluster, "name": entry.cluster_name}),
    )
    .map_err(|d| not_kc(&d))?;

    let mut exec = Map::new();
    exec.insert(
        "apiVersion".into(),
        json!(crate::aws::token::EXEC_API_V1BETA1),
    );
    exec.insert("args".into(), json!(entry.exec_args));
    exec.insert("command".into(), json!(entry.exec_command));
    if !entry.exec_env.is_empty() {
        let env: Vec<Value> = entry
            .exec_env
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect();
        exec.insert("env".into(), Value::Array(env));
    }
    exec.insert("interactiveMode".into(), json!("Never"));
    exec.insert("provideClusterInfo".into(), json!(false));
    upsert(
        obj,
        "users",
        &entry.context_name,
        json!({"name": entry.context_name, "user": {"exec": exec}}),
    )
    .map_err(|d| not_kc(&d))?;
    upsert(
        obj,
        "contexts",
        &entry.context_name,
        json!({"context": {"cluster": entry.cluster_name, "user": entry.context_name}, "name": entry.context_name}),
    )
    .map_err(|d| not_kc(&d))?;
    obj.insert("current-context".into(), json!(entry.context_name));
    serde_saphyr::to_string(&doc).map_err(|e| not_kc(&format!("cannot render: {e}")))
}

/// Replaces the list item named `name` in `obj[key]`, or appends it.
fn upsert(obj: &mut Map<String, Value>, key: &str, name: &str, item: Value) -> Result<(), String> {
    let list = obj.entry(key).or_insert_with(|| Value::Array(vec![]));
    if list.is_null() {
        *list = Value::Array(vec![]);
    }
    let Value::Array(items) = list else {
        return Err(format!("`{key}` is not a list"));
    };
    match items
        .iter_mut()
        .find(|i| i.get("name").and_then(Value::as_str) == Some(name))
    {
        Some(existing) => *existing = item,
        None => items.push(item),
    }
    Ok(())
}

/// Writes `content` to `path` atomically with mode 0600 (a secret-bearing file).
pub fn write_private_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    // A symlinked file (dotfiles kept in a repository) is written through to its target, as
    // kubectl does: renaming over the link would replace the link with a plain file.
    let resolved = resolve_symlinks(path)?;
    let path = resolved.as_path();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".eks-breakglass-")
        .tempfile_in(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(content)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// `path` with every symlink along the chain followed (the target may not exist yet).
pub(crate) fn resolve_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// Merges and writes in one go; nothing is written when anything fails.
pub fn merge_into_file(path: &Path, entry: &ContextEntry) -> Result<(), KubeconfigError> {
    let existing = read(path)?;
    let merged = merge(path, existing.as_deref(), entry)?;
    write_private_atomic(path, merged.as_bytes()).map_err(|e| KubeconfigError::Write {
        path: path.to_path_buf(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ctx: &str) -> ContextEntry {
        ContextEntry {
            cluster_name: "arn:aws:eks:us-east-1:123456789012:cluster/prod".into(),
            server: "https://127.0.0.1:6443".into(),
            ca_data_b64: Some("Q0E=".into()),
            tls_server_name: None,
            context_name: ctx.into(),
            exec_command: "/usr/local/bin/eks-breakglass".into(),
            exec_args: vec!["token".into(), "--cluster".into(), "prod".into()],
            exec_env: vec![],
        }
    }

    const OTHER: &str = "apiVersion: v1
kind: Config
clusters:
- name: other
  cluster:
    server: https://other.example
contexts:
- name: other
  context: {cluster: other, user: other}
current-context: other
users:
- name: other
  user:
    token: abc
preferences: {}
";

    #[test]
    fn merge_keeps_other_entries_and_replaces_ours() {
        let p = Path::new("x");
        let once = merge(p, Some(OTHER), &entry("bg")).unwrap();
        let twice = merge(p, Some(&once), &entry("bg")).unwrap();
        let v: Value = serde_saphyr::from_str(&twice).unwrap();
        assert_eq!(v["clusters"].as_array().unwrap().len(), 2);
        assert_eq!(v["users"].as_array().unwrap().len(), 2);
        assert_eq!(v["contexts"].as_array().unwrap().len(), 2);
        assert_eq!(v["current-context"], "bg");
        assert_eq!(v["users"][0]["user"]["token"], "abc");
        assert_eq!(
            v["clusters"][0]["cluster"]["server"],
            "https://other.example"
        );
        assert_eq!(
            v["users"][1]["user"]["exec"]["command"],
            "/usr/local/bin/eks-breakglass"
        );
    }

    #[test]
    fn refuses_malformed_and_foreign_documents() {
        let p = Path::new("x");
        assert!(matches!(
            merge(p, Some("clusters: [\n  - {"), &entry("a")),
            Err(KubeconfigError::Malformed { .. })
        ));
        assert!(matches!(
            merge(p, Some("- a\n- b\n"), &entry("a")),
            Err(KubeconfigError::NotAKubeconfig { .. })
        ));
        assert!(matches!(
            merge(p, Some("kind: Pod\n"), &entry("a")),
            Err(KubeconfigError::NotAKubeconfig { .. })
        ));
        assert!(matches!(
            merge(p, Some("clusters: 3\n"), &entry("a")),
            Err(KubeconfigError::NotAKubeconfig { .. })
        ));
        assert!(merge(p, Some(""), &entry("a")).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_file_is_written_through_to_its_target() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("dotfiles").join("config");
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, "old").unwrap();
        let link = t.path().join("config");
        std::os::unix::fs::symlink("dotfiles/config", &link).unwrap();
        write_private_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    #[test]
    fn written_file_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("config");
        merge_into_file(&path, &entry("a")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
