//! The decisions of `assume-creator` and `grant` that the commands used to make inline: what is
//! kept, how kubectl gets the creator's credentials, the exit from the login, the auth-mode
//! consent and when grant verifies.

use super::*;
use crate::ports::kube::{Verification, WhoAmI};
use crate::recovery::principal::PrincipalState;

const ROLE: &str = "arn:aws:iam::123456789012:role/creator";

fn key() -> Route {
    Route::TemporaryKey {
        user_name: "creator".into(),
        keys_before: vec![],
    }
}

fn assume(mfa_required: bool) -> Route {
    Route::AssumeRole {
        role_arn: ROLE.into(),
        conditions: vec![],
        mfa_required,
    }
}

fn recreated_role() -> Route {
    Route::RecreateRole {
        role_name: "creator".into(),
        path: "/".into(),
        role_arn: ROLE.into(),
    }
}

fn authenticated() -> Verification {
    Verification::Authenticated {
        who: WhoAmI {
            username: "creator".into(),
            uid: None,
            groups: vec!["system:masters".into()],
            extra: Default::default(),
        },
        attempts: 1,
        can_read_aws_auth: true,
        can_update_aws_auth: true,
    }
}

#[test]
fn a_handed_over_key_is_kept_and_nothing_else_is_without_keep() {
    assert!(keeps_key(true, false, false, false));
    assert!(keeps_key(false, true, true, false), "credentials file");
    assert!(keeps_key(false, true, false, true), "export lines");
    assert!(!keeps_key(false, true, false, false));
    // A role session handed over is not a key: nothing to keep.
    assert!(!keeps_key(false, false, true, true));
    assert!(is_key_route(&key()));
    assert!(is_key_route(&Route::RecreateUser {
        user_name: "u".into(),
        path: "/".into()
    }));
    assert!(!is_key_route(&assume(false)));
}

#[test]
fn kubectl_gets_the_creator_through_the_file_for_keys_and_mfa_and_by_assuming_otherwise() {
    assert_eq!(
        kubeconfig_exec(&key(), true, false),
        KubeconfigExec::CredentialsFile
    );
    assert_eq!(
        kubeconfig_exec(&assume(true), true, true),
        KubeconfigExec::CredentialsFile,
        "an MFA session cannot be re-assumed by kubectl"
    );
    assert_eq!(
        kubeconfig_exec(&assume(false), false, false),
        KubeconfigExec::Operator { role: Some(ROLE) }
    );
    assert_eq!(
        kubeconfig_exec(&assume(false), true, false),
        KubeconfigExec::Operator { role: Some(ROLE) },
        "a role that trusts the operator is assumed on each token, not read from the file"
    );
    assert_eq!(
        kubeconfig_exec(&Route::AlreadyCreator, false, false),
        KubeconfigExec::Operator { role: None }
    );
    assert!(matches!(
        kubeconfig_exec(&assume(true), false, true),
        KubeconfigExec::None { why } if why.contains("MFA")
    ));
    assert!(matches!(
        kubeconfig_exec(&key(), false, false),
        KubeconfigExec::None { why } if why.contains("--credentials-file")
    ));
}

#[test]
fn the_creator_let_in_is_ok_refused_is_exit_3_with_why_and_a_next_command() {
    let ok = creator_outcome(&authenticated(), &assume(false), None, "prod");
    assert!(matches!(ok.result, Ok(0)));
    assert!(ok.next.is_none() && ok.refused.is_none());

    let refused = Verification::Refused { attempts: 3 };
    let r = creator_outcome(&refused, &assume(false), None, "prod");
    assert_eq!(r.result.ok(), Some(crate::exit::CREATOR_UNUSABLE));
    assert!(r.refused.unwrap_or_default().contains("implicit admin"));
    assert_eq!(
        r.next.as_deref(),
        Some("eks-breakglass grant --cluster prod")
    );
    // A recreated principal: EKS knows the old unique id, whatever the route says.
    let r = creator_outcome(&refused, &recreated_role(), None, "prod");
    assert!(r.refused.unwrap_or_default().contains("old unique id"));
    let status = PrincipalStatus::new(PrincipalState::Recreated, "s");
    let r = creator_outcome(&refused, &assume(false), Some(&status), "prod");
    assert!(r.refused.unwrap_or_default().contains("old unique id"));

    let r = creator_outcome(&Verification::Interrupted, &key(), None, "prod");
    assert!(matches!(r.result, Err(AppError::Interrupted)));
    let r = creator_outcome(
        &Verification::Failed {
            error: "timeout".into(),
        },
        &key(),
        None,
        "prod",
    );
    assert!(matches!(r.result, Err(e) if e.to_string().contains("timeout")));
}

#[test]
fn grant_switches_the_auth_mode_only_with_its_consent_and_a_dry_run_only_shows_it() {
    let e = grant_mode_consent(true, false, false, "legacy").unwrap_err();
    assert!(e.to_string().contains("one-way"), "{e}");
    assert!(
        e.hint()
            .unwrap_or_default()
            .contains("--allow-auth-mode-change")
    );
    assert!(grant_mode_consent(true, true, false, "legacy").is_ok());
    assert!(grant_mode_consent(true, false, true, "legacy").is_ok());
    assert!(grant_mode_consent(false, false, false, "prod").is_ok());
}

#[test]
fn grant_verifies_only_its_own_principal_and_fails_when_it_is_not_let_in() {
    assert!(grant_verifies(Some(ROLE), ROLE));
    assert!(!grant_verifies(
        Some(ROLE),
        "arn:aws:iam::123456789012:role/other"
    ));
    assert!(
        !grant_verifies(None, ROLE),
        "the caller's principal is unknown"
    );

    assert!(matches!(grant_result(None, "prod", ROLE), Ok(0)));
    assert!(matches!(
        grant_result(Some(&authenticated()), "prod", ROLE),
        Ok(0)
    ));
    let e = grant_result(Some(&Verification::Refused { attempts: 5 }), "prod", ROLE).unwrap_err();
    assert!(
        e.to_string().contains("the access entry is in place but"),
        "{e}"
    );
    assert!(e.hint().unwrap_or_default().contains("--wait 180"));
    assert!(matches!(
        grant_result(Some(&Verification::Interrupted), "prod", ROLE),
        Err(AppError::Interrupted)
    ));
}

#[test]
fn before_any_change_a_kept_key_needs_a_writable_hand_over_and_a_handed_over_key_is_kept() {
    let c = CreatorChecks {
        mfa_given: false,
        require_mfa: false,
        dry_run: false,
        keep: true,
        credentials_file: None,
        print_env: false,
    };
    // --keep of a key with no hand-over: refused, the file check never asked.
    let e = before_change(&key(), None, &c, |_| panic!("not asked")).unwrap_err();
    assert!(e.to_string().contains("--keep"), "{e}");
    let file = std::path::Path::new("/nonexistent/creds");
    let c = CreatorChecks {
        keep: false,
        credentials_file: Some(file),
        ..c
    };
    let e = before_change(&key(), None, &c, |_| Err("read-only".into())).unwrap_err();
    assert!(e.to_string().contains("nothing was changed"), "{e}");
    assert_eq!(before_change(&key(), None, &c, |_| Ok(())).ok(), Some(true));
    // An MFA-only role without a code: refused naming the flags, before the file is looked at.
    let e = before_change(&assume(true), None, &c, |_| panic!("not asked")).unwrap_err();
    assert!(e.hint().unwrap_or_default().contains("--mfa-serial"));
    assert_eq!(
        before_change(&assume(false), None, &c, |_| Ok(())).ok(),
        Some(false),
        "a role session is not a key to keep"
    );
}
