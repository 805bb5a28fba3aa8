//! Writing one profile into an AWS shared-credentials file without harming the rest of it.
//!
//! `--credentials-file ~/.aws/credentials` is what an operator types at 3 a.m.; replacing the
//! whole file would wipe `[default]` and every other profile. So the file is read, only the
//! named section is replaced (or appended), everything else is kept byte for byte, the previous
//! file is copied aside first (0600), and the new one is written atomically with mode 0600
//! (through a symlink to its target).

use std::path::{Path, PathBuf};

/// The file's text with section `[profile]` set to `lines` (`key = value`), every other line
/// kept as it is. A section header is recognised as the AWS CLI does: botocore reads the file
/// with Python's `configparser.RawConfigParser`, which strips the line and matches
/// `\[(?P<header>.+)\]` at its start — the `.+` is greedy, so the name runs to the *last* `]`
/// and anything after it (`[work] # production`) is ignored. Spaces inside (`[ name ]`) are
/// trimmed, as before.
pub fn merge_profile(existing: &str, profile: &str, lines: &[String]) -> String {
    let header = |l: &str| {
        let t = l.trim();
        let rest = t.strip_prefix('[')?;
        let end = rest.rfind(']').filter(|e| *e > 0)?;
        Some(rest[..end].trim().to_string())
    };
    let mut section = format!("[{profile}]\n");
    for l in lines {
        section.push_str(l);
        section.push('\n');
    }
    let mut out = String::new();
    let mut in_ours = false;
    let mut placed = false;
    for line in existing.split_inclusive('\n') {
        match header(line) {
            Some(name) if name == profile => {
                in_ours = true;
                if !placed {
                    out.push_str(&section);
                    placed = true;
                }
                continue;
            }
            Some(_) => in_ours = false,
            None => {}
        }
        if !in_ours {
            out.push_str(line);
        }
    }
    if !placed {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&section);
    }
    out
}

/// Writes `[profile]` into the credentials file at `path`: the rest kept, the previous file
/// backed up beside it first (returned), the new file 0600 and written atomically.
pub fn write_profile(
    path: &Path,
    profile: &str,
    lines: &[String],
) -> std::io::Result<Option<PathBuf>> {
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mut backup = None;
    if let Some(text) = &existing {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "credentials".into());
        let b = path.with_file_name(format!(
            "{name}.eks-breakglass-backup-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
        ));
        crate::kubeconfig::write_private_atomic(&b, text.as_bytes())?;
        backup = Some(b);
    }
    let merged = merge_profile(existing.as_deref().unwrap_or(""), profile, lines);
    crate::kubeconfig::write_private_atomic(path, merged.as_bytes())?;
    Ok(backup)
}

/// Checks, before anything is created, that [`write_profile`] can write `path`: an existing
/// file must be a readable UTF-8 file (it is merged, not replaced), and the directory it goes in
/// (or the nearest existing one above, as missing ones are created) must be a directory we can
/// create files in. A key whose secret cannot be handed over must never be made.
pub fn check_writable(path: &Path) -> Result<(), String> {
    let target = crate::kubeconfig::resolve_symlinks(path)
        .map_err(|e| format!("cannot resolve {}: {e}", path.display()))?;
    match std::fs::read(&target) {
        Ok(bytes) => {
            String::from_utf8(bytes).map_err(|_| {
                format!(
                    "{} is not UTF-8 text; it cannot be merged as an AWS credentials file",
                    target.display()
                )
            })?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", target.display())),
    }
    let mut dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    loop {
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => return Err(format!("{} is not a directory", dir.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => dir = p.to_path_buf(),
                _ => {
                    dir = PathBuf::from(".");
                    break;
                }
            },
            Err(e) => return Err(format!("cannot use {}: {e}", dir.display())),
        }
    }
    tempfile::Builder::new()
        .prefix(".eks-breakglass-check-")
        .tempfile_in(&dir)
        .map(drop)
        .map_err(|e| format!("cannot create files in {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_with_a_trailing_comment_is_a_header() {
        let before = "[eks-breakglass-x]\naws_access_key_id = OLD\n\n[work] # production\naws_access_key_id = W\n";
        let out = merge_profile(
            before,
            "eks-breakglass-x",
            &["aws_access_key_id = NEW".into()],
        );
        assert!(
            out.contains("[work] # production\naws_access_key_id = W\n"),
            "{out}"
        );
        assert!(out.contains("NEW") && !out.contains("OLD"), "{out}");
    }

    fn keys(id: &str) -> Vec<String> {
        vec![
            format!("aws_access_key_id = {id}"),
            "aws_secret_access_key = s".into(),
        ]
    }

    #[test]
    fn one_section_replaced_the_rest_kept() {
        let existing = "[default]\naws_access_key_id = D\naws_secret_access_key = d\n\n[ eks ]\naws_access_key_id = OLD\naws_session_token = t\n[other]\nregion = x\n";
        let merged = merge_profile(existing, "eks", &keys("NEW"));
        assert_eq!(
            merged,
            "[default]\naws_access_key_id = D\naws_secret_access_key = d\n\n[eks]\naws_access_key_id = NEW\naws_secret_access_key = s\n[other]\nregion = x\n"
        );
        let added = merge_profile("[default]\nx = 1", "eks", &keys("K"));
        assert_eq!(
            added,
            "[default]\nx = 1\n\n[eks]\naws_access_key_id = K\naws_secret_access_key = s\n"
        );
        assert_eq!(
            merge_profile("", "eks", &keys("K")),
            "[eks]\naws_access_key_id = K\naws_secret_access_key = s\n"
        );
    }

    #[test]
    fn write_backs_up_and_keeps_default() {
        use std::os::unix::fs::PermissionsExt as _;
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("credentials");
        std::fs::write(&p, "[default]\naws_access_key_id = D\n").unwrap();
        let b = write_profile(&p, "eks", &keys("K")).unwrap().unwrap();
        assert_eq!(
            std::fs::read_to_string(&b).unwrap(),
            "[default]\naws_access_key_id = D\n"
        );
        let now = std::fs::read_to_string(&p).unwrap();
        assert!(now.starts_with("[default]\naws_access_key_id = D\n") && now.contains("[eks]"));
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&b).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
