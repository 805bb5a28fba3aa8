//! Release plumbing: man pages that render, `version` naming the commit (and falling back
//! cleanly without git), and a crate package that ships the product only.

mod common;

#[path = "../build/info.rs"]
mod info;

use std::path::Path;
use std::process::Command;

fn git_head(dir: &Path) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn man_pages_render_with_groff() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::product()
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let listed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(listed.len() >= 20, "{listed:?}");
    // The top page on stdout is the same as the one written.
    let stdout_page = common::product().arg("man").output().unwrap();
    assert_eq!(
        stdout_page.stdout,
        std::fs::read(dir.path().join("eks-breakglass.1")).unwrap()
    );
    let groff = have("groff");
    if !groff {
        eprintln!("groff not installed: checking the roff structure only");
    }
    for path in &listed {
        let path = Path::new(path);
        let roff = std::fs::read_to_string(path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        // Structure: a title line naming the page, and the sections every page has.
        assert!(
            roff.lines()
                .any(|l| l.starts_with(&format!(".TH {name} 1 "))),
            "{}: no .TH line",
            path.display()
        );
        for section in [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION"] {
            assert!(
                roff.contains(section),
                "{}: {section} missing",
                path.display()
            );
        }
        if !groff {
            continue;
        }
        // -ww: every warning; -k: preconv, as man(1) does, for the UTF-8 in help texts.
        let check = Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            check.status.success() && check.stderr.is_empty(),
            "{}: groff says {}",
            path.display(),
            String::from_utf8_lossy(&check.stderr)
        );
        let rendered = Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-P", "-cbou"])
            .arg(path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&rendered.stdout);
        for heading in ["NAME", "SYNOPSIS", "DESCRIPTION"] {
            assert!(
                text.lines().any(|l| l == heading),
                "{}: {heading} not rendered:\n{text}",
                path.display()
            );
        }
    }
    // The recover page carries recover's own options.
    let recover = std::fs::read_to_string(dir.path().join("eks-breakglass-recover.1")).unwrap();
    assert!(recover.contains("\\-\\-cluster"), "{recover}");
}

#[test]
fn man_dry_run_lists_the_pages_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("man1");
    let out = common::product()
        .args(["man", "--dry-run", "--dir"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.contains("eks-breakglass-recover.1"), "{listed}");
    assert!(!target.exists(), "--dry-run created {}", target.display());
}

#[test]
fn man_dir_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = common::product()
        .args(["man", "--dir"])
        .arg(file.join("man1"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot create"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn man_dir_naming_a_file_is_refused_with_a_different_path_in_the_hint() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pages");
    std::fs::write(&file, "x").unwrap();
    for dry in [true, false] {
        let mut cmd = common::product();
        cmd.arg("man");
        if dry {
            cmd.arg("--dry-run");
        }
        let out = cmd.arg("--dir").arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "dry-run {dry}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is not a directory"), "{err}");
        let hint = err
            .lines()
            .find(|l| l.contains("hint:"))
            .unwrap_or_default()
            .to_string();
        assert!(!hint.is_empty(), "{err}");
        assert!(
            !hint.contains(&format!("--dir {}", file.display())),
            "the hint repeats the bad path: {hint}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }
}

#[test]
fn version_names_the_commit_this_checkout_was_built_from() {
    let out = common::product()
        .args(["--output", "json", "version"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(!v["target"].as_str().unwrap().is_empty());
    assert!(v["rustc"].as_str().unwrap().starts_with("rustc "));
    match git_head(&common::root()) {
        Some(head) => {
            assert_eq!(v["source"], "git");
            assert_eq!(v["commit"], head.as_str());
        }
        None => {
            assert_eq!(v["source"], "unknown");
            assert_eq!(v["commit"], "unknown");
        }
    }
    let text = common::product().arg("version").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with(&format!("eks-breakglass {}\n", env!("CARGO_PKG_VERSION"))));
    assert!(text.contains("commit:"), "{text}");
}

#[test]
fn build_info_from_git_when_the_crate_is_tracked() {
    let Some(head) = git_head(&common::root()) else {
        eprintln!("skipped: the workspace is not a git checkout");
        return;
    };
    let i = info::collect(&common::root());
    assert_eq!(i.source, "git");
    assert_eq!(i.commit, head);
    assert!(!i.describe.is_empty(), "{i:?}");
    assert!(i.commit_date.len() >= 10, "{i:?}");
    assert!(i.watch.iter().all(|p| p.exists()), "{i:?}");
}

#[test]
fn build_info_from_a_crate_tarball_uses_its_vcs_info() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\n").unwrap();
    std::fs::write(
        dir.path().join(".cargo_vcs_info.json"),
        "{\n  \"git\": {\n    \"sha1\": \"0123456789abcdef0123456789abcdef01234567\",\n    \"dirty\": true\n  },\n  \"path_in_vcs\": \"\"\n}",
    )
    .unwrap();
    let i = info::collect(dir.path());
    assert_eq!(i.source, "crate");
    assert_eq!(i.commit, "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(i.describe, "");
    assert!(i.dirty, "{i:?}");
}

#[test]
fn build_info_is_dirty_when_a_build_input_differs_from_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(d)
            .args(["-c", "user.name=r", "-c", "user.email=r@example.com"])
            .args(args)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    std::fs::create_dir(d.join("src")).unwrap();
    std::fs::write(d.join("Cargo.toml"), "[package]\n").unwrap();
    std::fs::write(d.join("src/main.rs"), "fn main() {}\n").unwrap();
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "one"]);
    // An untracked file outside the inputs is not dirt.
    std::fs::write(d.join("notes.txt"), "x").unwrap();
    assert!(!info::collect(d).dirty);
    std::fs::write(d.join("src/main.rs"), "fn main() { println!(); }\n").unwrap();
    let i = info::collect(d);
    assert!(i.dirty, "{i:?}");
    assert!(i.watch.contains(&d.join("src")), "{i:?}");
}

#[test]
fn build_info_without_git_is_unknown_not_an_error() {
    // A tarball without vcs info, unpacked outside any repository.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\n").unwrap();
    let i = info::collect(dir.path());
    assert_eq!(i.source, "unknown", "{i:?}");
    assert_eq!(i.commit, "unknown");
    assert!(i.watch.is_empty());
    // Unpacked inside a checkout but not tracked by it (cargo's target/package/, a vendor
    // directory): the checkout's commit is not this crate's.
    if git_head(&common::root()).is_some() {
        let inside = tempfile::Builder::new()
            .prefix("build-info-")
            .tempdir_in(common::root().join("target"))
            .unwrap();
        std::fs::write(inside.path().join("Cargo.toml"), "[package]\n").unwrap();
        let i = info::collect(inside.path());
        assert_eq!(i.source, "unknown", "{i:?}");
    }
}

#[test]
fn crate_package_ships_the_product_only() {
    let out = Command::new(env!("CARGO"))
        .current_dir(common::root())
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "-p",
            "eks-breakglass",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = String::from_utf8(out.stdout).unwrap();
    let files: Vec<&str> = list.lines().collect();
    for want in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "build.rs",
        "build/info.rs",
        "src/main.rs",
    ] {
        assert!(files.contains(&want), "{want} not packaged: {files:?}");
    }
    for f in &files {
        assert!(
            !(f.starts_with("tests/") || f.starts_with("sim/") || f.starts_with("scripts/")),
            "{f} should not be in the crate"
        );
    }
}
