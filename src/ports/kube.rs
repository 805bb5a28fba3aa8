//! What a run needs from the cluster's API server: kube-system/aws-auth read as a given
//! identity, and proof by logging in (a SelfSubjectReview) that an identity gets in.
//!
//! The adapter knows where the API server is (the endpoint and CA DescribeCluster gave, or a
//! tunnel) and which cluster the tokens are for; the workflow only says as whom.

use crate::error::AppError;
use crate::recovery::plan::Interrupt;
use crate::recovery::restore::AwsAuthObject;
use aws_credential_types::Credentials;
use std::time::Duration;

/// Who the API server says we are (a SelfSubjectReview's answer).
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct WhoAmI {
    pub username: String,
    pub uid: Option<String>,
    pub groups: Vec<String>,
    pub extra: std::collections::BTreeMap<String, Vec<String>>,
}

/// kube-system/aws-auth as read.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveAwsAuth {
    pub object: AwsAuthObject,
    /// The resourceVersion read: the write is a compare-and-swap on it.
    pub resource_version: Option<String>,
    /// The ConfigMap as JSON (the backup saved before the write).
    pub json: String,
}

/// Why aws-auth could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// No client could be made for the identity (bad credentials, no endpoint).
    Connect(AppError),
    /// The API server refused or failed the read.
    Read(AppError),
}

/// How authenticating to the cluster went.
#[derive(Debug, Clone)]
pub enum Verification {
    /// The API server answered a SelfSubjectReview.
    Authenticated {
        who: WhoAmI,
        attempts: u32,
        can_read_aws_auth: bool,
        /// SelfSubjectAccessReview: may it update configmaps in kube-system (repair aws-auth).
        can_update_aws_auth: bool,
    },
    /// 401 until the deadline: the identity is not mapped.
    Refused { attempts: u32 },
    /// The API server could not be reached or used.
    Failed { error: String },
    /// Ctrl-C during the wait.
    Interrupted,
}

pub trait Kube {
    /// kube-system/aws-auth read as `creds` (`None`: it does not exist).
    fn read_aws_auth(
        &self,
        creds: &Credentials,
    ) -> impl Future<Output = Result<Option<LiveAwsAuth>, ReadError>>;
    /// Logs in as `creds` and asks who it is, retrying 401s for `timeout` (propagation).
    fn verify(
        &self,
        creds: &Credentials,
        timeout: Duration,
        interrupt: &Interrupt,
    ) -> impl Future<Output = Verification>;
    /// `object` as the ConfigMap JSON the run saves as what it wrote.
    fn configmap_json(&self, object: &AwsAuthObject) -> String;
}
impl Verification {
    pub fn json(&self) -> serde_json::Value {
        match self {
            Verification::Authenticated {
                who,
                attempts,
                can_read_aws_auth,
                can_update_aws_auth,
            } => serde_json::json!({
                "result": "authenticated", "username": who.username, "groups": who.groups,
                "uid": who.uid, "attempts": attempts, "can_read_aws_auth": can_read_aws_auth,
                "can_update_aws_auth": can_update_aws_auth,
            }),
            Verification::Refused { attempts } => {
                serde_json::json!({"result": "refused", "attempts": attempts})
            }
            Verification::Failed { error } => {
                serde_json::json!({"result": "failed", "error": error})
            }
            Verification::Interrupted => serde_json::json!({"result": "interrupted"}),
        }
    }

    /// Lines for people.
    pub fn describe(&self) -> String {
        match self {
            Verification::Authenticated {
                who,
                attempts,
                can_read_aws_auth,
                can_update_aws_auth,
            } => {
                let word = |b: bool| if b { "allowed" } else { "forbidden" };
                format!(
                    "authenticated (SelfSubjectReview, attempt {attempts}): username {}, groups [{}]; reading kube-system/aws-auth: {}; updating it: {}",
                    who.username,
                    who.groups.join(", "),
                    word(*can_read_aws_auth),
                    word(*can_update_aws_auth)
                )
            }
            Verification::Refused { attempts } => format!(
                "refused: the API server answered 401 Unauthorized to all {attempts} attempt(s); this identity is not let in"
            ),
            Verification::Failed { error } => format!("could not verify: {error}"),
            Verification::Interrupted => "verification interrupted".into(),
        }
    }

    pub fn is_authenticated(&self) -> bool {
        matches!(self, Verification::Authenticated { .. })
    }

    /// Authenticated AND allowed to read and update kube-system/aws-auth: what "gets in"
    /// means for a recovery (an identity that only authenticates cannot check or repair it).
    pub fn has_recovery_rights(&self) -> bool {
        matches!(
            self,
            Verification::Authenticated {
                can_read_aws_auth: true,
                can_update_aws_auth: true,
                ..
            }
        )
    }
}
