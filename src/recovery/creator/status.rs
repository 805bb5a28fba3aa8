//! The creator's status with IAM: does it still exist (same unique id), can a key be added,
//! does its trust policy let the caller in. A refusal is recorded as a denied check naming the
//! action; only credential failures end the search.
use super::super::event::CreatorKind;
use super::super::principal::{self, PrincipalState, PrincipalStatus, SsoAccess};
use super::super::trust::Caller;
use super::report::{Creator, is_fatal};
use crate::ports::creator_sources::CreatorSources;
use crate::ports::error::AwsError;

/// A check that may be refused without spoiling the report: a refusal is recorded (the report
/// names the denied action), anything fatal (credentials, network) ends the search.
fn optional_check<T>(
    result: Result<T, AwsError>,
    denied: &mut Vec<principal::DeniedCheck>,
) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_fatal(&e) => Err(e),
        Err(e) => {
            denied.push(principal::DeniedCheck {
                action: e.action.clone(),
                message: e.to_string(),
            });
            Ok(None)
        }
    }
}

/// Judges the creator with IAM. Access denied gives a partial status naming the action.
pub async fn check_status<S: CreatorSources>(
    src: &mut S,
    creator: &Creator,
    caller: Option<&Caller>,
) -> Result<PrincipalStatus, AwsError> {
    let expected_id = creator.unique_id.as_deref();
    if let (Some(c), Some(a)) = (caller, creator.account.as_deref())
        && c.account != a
    {
        let mut s = PrincipalStatus::new(
            PrincipalState::Unknown,
            format!(
                "the creator belongs to account {a}, but you are signed in to account {}: \
                 check it with credentials of account {a}",
                c.account
            ),
        );
        s.expected_unique_id = expected_id.map(str::to_string);
        return Ok(s);
    }
    match creator.kind {
        CreatorKind::Root => {
            let mut s = PrincipalStatus::new(
                PrincipalState::Root,
                "the account root user created the cluster: only root credentials get in as it",
            );
            s.current_arn = Some(creator.arn.clone());
            s.expected_unique_id = expected_id.map(str::to_string);
            s.caller_is_creator = caller.is_some_and(|c| c.arn.eq_ignore_ascii_case(&creator.arn));
            Ok(s)
        }
        CreatorKind::IamUser | CreatorKind::FederatedUser => {
            let Some(name) = creator.name.as_deref() else {
                return Ok(PrincipalStatus::new(
                    PrincipalState::Unknown,
                    format!("'{}' is not an IAM user ARN", creator.arn),
                ));
            };
            let user = match src.get_user(name).await {
                Ok(u) => u,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    return Ok(PrincipalStatus::denied(
                        &e.action,
                        &e.to_string(),
                        expected_id,
                    ));
                }
            };
            let mut denied = Vec::new();
            let (keys, mfa) = if user.is_some() {
                let keys = optional_check(src.list_access_keys(name).await, &mut denied)?;
                let mfa = optional_check(src.list_mfa_devices(name).await, &mut denied)?;
                (keys, mfa)
            } else {
                (None, None)
            };
            let mut s = principal::judge_user(
                &creator.arn,
                expected_id,
                user.as_ref(),
                keys.as_deref(),
                mfa.as_deref(),
                caller,
            );
            s.denied = denied;
            Ok(s)
        }
        CreatorKind::AssumedRole | CreatorKind::IdentityCenterRole => {
            let Some(name) = creator.name.as_deref() else {
                return Ok(PrincipalStatus::new(
                    PrincipalState::Unknown,
                    format!("'{}' is not an IAM role ARN", creator.arn),
                ));
            };
            let role = match src.get_role(name).await {
                Ok(r) => r,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    return Ok(PrincipalStatus::denied(
                        &e.action,
                        &e.to_string(),
                        expected_id,
                    ));
                }
            };
            let mut s = principal::judge_role(&creator.arn, expected_id, role.as_ref(), caller);
            if creator.kind == CreatorKind::IdentityCenterRole {
                // Nobody assumes these roles directly: the trust policy only names the SAML
                // provider of Identity Center.
                s.trust = None;
                s.sso = Some(SsoAccess {
                    permission_set: creator.permission_set.clone(),
                    sso_region: creator.sso_region.clone(),
                    sign_in: principal::sso_sign_in(
                        creator.permission_set.as_deref(),
                        creator.sso_region.as_deref(),
                        creator.account.as_deref(),
                    ),
                });
                if s.state == PrincipalState::Deleted {
                    s.summary = "the Identity Center role no longer exists in the account: the \
                                 permission set is no longer provisioned here; provisioning it \
                                 again makes a new role with a new unique id"
                        .into();
                }
            }
            Ok(s)
        }
        CreatorKind::Other => Ok(PrincipalStatus::new(
            PrincipalState::Unknown,
            format!("'{}' is not a principal IAM can look up", creator.arn),
        )),
    }
}
