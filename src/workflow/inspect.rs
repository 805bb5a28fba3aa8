//! The read side of aws-auth: `aws-auth lint` over files (and the live ConfigMap), judged;
//! `aws-auth salvage` with who it would let in.
//!
//! Decided here, not in the command: every input is analysed the way the authenticator reads it;
//! a file that could not be read is never counted as linted (a CI gate reading `errors: 0`, or an
//! empty SARIF log, would take an unread file for a clean one); and the exit: the read error
//! itself for a single file, exit 2 after the others' results for several, else findings (errors,
//! or warnings with `--deny-warnings`) or clean. The command reads the files and prints.

use crate::awsauth::{self, Analysis, AwsAuthDocument, ClusterFacts};
use crate::error::AppError;
use crate::exit;

/// What linting gave.
#[derive(Debug)]
pub struct LintReport {
    /// Each document read, with its analysis (the live ConfigMap first).
    pub results: Vec<(AwsAuthDocument, Analysis)>,
    /// Files that could not be read, in order.
    pub unread: Vec<AppError>,
    /// How many files were named (the live ConfigMap not counted).
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    pub deny_warnings: bool,
}

/// Analyses `live` (if any) and each file as read.
pub fn lint(
    live: Option<AwsAuthDocument>,
    files: Vec<Result<AwsAuthDocument, AppError>>,
    facts: &ClusterFacts,
    deny_warnings: bool,
) -> LintReport {
    let n = files.len();
    let mut results = Vec::new();
    let mut unread = Vec::new();
    for doc in live.into_iter().map(Ok).chain(files) {
        match doc {
            Ok(doc) => {
                let analysis = awsauth::analyze(&doc, facts);
                results.push((doc, analysis));
            }
            Err(e) => unread.push(e),
        }
    }
    LintReport {
        errors: results.iter().map(|(_, r)| r.errors()).sum(),
        warnings: results.iter().map(|(_, r)| r.warnings()).sum(),
        results,
        unread,
        files: n,
        deny_warnings,
    }
}

impl LintReport {
    /// Nothing was linted and the one file named could not be read: that error is the whole
    /// answer (SARIF output still gets a log naming the failure, so it does not ask).
    pub fn only_error(&mut self) -> Option<AppError> {
        if self.results.is_empty() && self.files == 1 && !self.unread.is_empty() {
            Some(self.unread.remove(0))
        } else {
            None
        }
    }

    /// What ends the command when files could not be read, for the report's text.
    pub fn failure(&self) -> Option<String> {
        match self.unread.len() {
            0 => None,
            1 if self.files == 1 => Some(self.unread[0].to_string()),
            n => Some(format!("{n} of {} files could not be read", self.files)),
        }
    }

    /// The exit: the read error for a single file, 2 (usage) for several, else findings or OK.
    pub fn exit(mut self) -> Result<u8, AppError> {
        if !self.unread.is_empty() {
            if self.files == 1 {
                return Err(self.unread.remove(0));
            }
            return Ok(exit::USAGE);
        }
        if self.errors > 0 || (self.deny_warnings && self.warnings > 0) {
            Ok(exit::FINDINGS)
        } else {
            Ok(exit::OK)
        }
    }
}

/// What `aws-auth salvage` gives: the repaired ConfigMap, and who it lets in compared with what
/// the input grants now and with what it writes unchanged.
#[derive(Debug)]
pub struct SalvageOutcome {
    pub salvaged: awsauth::Salvaged,
    pub access: awsauth::AccessDiff,
}

/// Salvages `doc`; refuses `fix_arns` that match no role entry with a path (a typo would
/// otherwise be silently ignored).
pub fn salvage(
    doc: &AwsAuthDocument,
    clean: bool,
    fix_arns: &[String],
) -> Result<SalvageOutcome, AppError> {
    let s = awsauth::salvage_with(
        doc,
        &awsauth::SalvageOptions {
            clean,
            fix_arns: fix_arns.to_vec(),
            verbatim: false,
        },
    );
    if !s.report.unused_fixes.is_empty() {
        return Err(AppError::usage(
            format!(
                "--salvage-fix-arns {}: no role entry with a path has that ARN",
                s.report.unused_fixes.join(", ")
            ),
            Some("give the ARN exactly as aws-auth writes it, path included".to_string()),
        ));
    }
    // Who the salvaged version lets in, compared with what the input grants now and with
    // what it writes (a salvage that changes no ARN).
    let now = awsauth::analyze(doc, &ClusterFacts::default()).effective;
    let as_written = awsauth::salvage_verbatim(doc);
    let mapping_of = |text: &str| {
        awsauth::read_document("salvaged", text.as_bytes())
            .map(|d| awsauth::analyze(&d, &ClusterFacts::default()).effective)
            .unwrap_or_default()
    };
    let access = awsauth::access_diff(
        &now,
        &mapping_of(&as_written.manifest),
        &mapping_of(&s.manifest),
        &[],
        &[],
    );
    Ok(SalvageOutcome {
        salvaged: s,
        access,
    })
}

/// `aws-auth render`: the document as the authenticator would load it (`clean`: without the
/// entries it would drop).
pub fn render(doc: &AwsAuthDocument, clean: bool) -> String {
    let loads = awsauth::load(doc);
    awsauth::render(doc, &loads, awsauth::RenderOptions { clean })
}

/// `aws-auth diff`: what changes in the effective mapping (who gets in as what), and the text
/// diff of both documents rendered clean.
pub fn diff(old: &AwsAuthDocument, new: &AwsAuthDocument) -> (awsauth::MappingDiff, String) {
    let (ol, nl) = (awsauth::load(old), awsauth::load(new));
    let (om, nm) = (
        awsauth::effective::build(old, &ol),
        awsauth::effective::build(new, &nl),
    );
    let d = awsauth::diff_mappings(&om, &nm);
    let opts = awsauth::RenderOptions { clean: true };
    let text = awsauth::text_diff(
        &awsauth::render(old, &ol, opts),
        &awsauth::render(new, &nl, opts),
        &old.origin,
        &new.origin,
    );
    (d, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, map_roles: &str) -> AwsAuthDocument {
        AwsAuthDocument::from_data(name, vec![("mapRoles".to_string(), map_roles.to_string())])
    }

    fn clean() -> AwsAuthDocument {
        doc(
            "clean.yaml",
            "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups:\n    - system:masters\n",
        )
    }

    /// A tab: the authenticator loads nothing from mapRoles.
    fn broken() -> AwsAuthDocument {
        doc(
            "broken.yaml",
            "- rolearn: arn:aws:iam::111122223333:role/admin\n\tusername: admin\n",
        )
    }

    /// An unquoted account id: loads, but YAML/JSON tools read a number (a warning only).
    fn warned() -> AwsAuthDocument {
        AwsAuthDocument::from_data(
            "warned.yaml",
            vec![("mapAccounts".to_string(), "- 111122223333\n".to_string())],
        )
    }

    fn unreadable(path: &str) -> AppError {
        AppError::usage(
            format!("cannot read {path}: No such file or directory"),
            None,
        )
    }

    #[test]
    fn clean_is_ok_and_errors_are_findings() {
        let f = ClusterFacts::default();
        let r = lint(None, vec![Ok(clean())], &f, false);
        assert_eq!((r.errors, r.results.len()), (0, 1));
        assert_eq!(r.exit().unwrap(), exit::OK);
        let r = lint(None, vec![Ok(clean()), Ok(broken())], &f, false);
        assert!(r.errors > 0);
        assert_eq!(r.exit().unwrap(), exit::FINDINGS);
    }

    #[test]
    fn warnings_fail_only_when_denied() {
        let f = ClusterFacts::default();
        let r = lint(None, vec![Ok(warned())], &f, false);
        assert_eq!(r.errors, 0, "{:?}", r.results[0].1.findings);
        assert!(r.warnings > 0);
        assert_eq!(r.exit().unwrap(), exit::OK);
        let r = lint(None, vec![Ok(warned())], &f, true);
        assert_eq!(r.exit().unwrap(), exit::FINDINGS);
    }

    /// An unread file is never a clean one: alone, its error is the answer; among others, the
    /// others are reported and the exit is 2 whatever they hold.
    #[test]
    fn an_unread_file_is_never_counted_as_linted() {
        let f = ClusterFacts::default();
        let mut r = lint(None, vec![Err(unreadable("a.yaml"))], &f, false);
        assert_eq!(
            r.failure().unwrap(),
            "cannot read a.yaml: No such file or directory"
        );
        let e = r.only_error().unwrap();
        assert!(e.to_string().contains("a.yaml"));

        let mut r = lint(
            None,
            vec![Ok(clean()), Err(unreadable("b.yaml"))],
            &f,
            false,
        );
        assert!(r.only_error().is_none());
        assert_eq!(r.results.len(), 1);
        assert_eq!(r.failure().unwrap(), "1 of 2 files could not be read");
        assert_eq!(r.exit().unwrap(), exit::USAGE);
    }

    /// `--cluster`: the live ConfigMap is linted first and counts like a file, but is not one of
    /// the files named.
    #[test]
    fn the_live_configmap_is_linted_first() {
        let f = ClusterFacts::default();
        let mut live = broken();
        live.origin = "cluster/prod".into();
        let r = lint(Some(live), vec![Ok(clean())], &f, false);
        assert_eq!(r.files, 1);
        assert_eq!(r.results[0].0.origin, "cluster/prod");
        assert!(r.errors > 0);
        assert_eq!(r.exit().unwrap(), exit::FINDINGS);
    }

    /// A `--salvage-fix-arns` that matches no role entry with a path is refused, not ignored;
    /// a real one is applied and the access change is computed.
    #[test]
    fn salvage_refuses_a_fix_for_no_entry() {
        let with_path = doc(
            "path.yaml",
            "- rolearn: arn:aws:iam::111122223333:role/team/admin\n  username: admin\n  groups:\n    - system:masters\n",
        );
        let e = salvage(
            &with_path,
            false,
            &["arn:aws:iam::111122223333:role/team/typo".to_string()],
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("no role entry with a path has that ARN"),
            "{e}"
        );
        // The ARN as aws-auth writes it is a real fix: accepted.
        let out = salvage(
            &with_path,
            false,
            &["arn:aws:iam::111122223333:role/team/admin".to_string()],
        )
        .unwrap();
        assert!(out.salvaged.report.unused_fixes.is_empty());
        assert!(out.salvaged.manifest.contains("username: admin"));
    }
}
