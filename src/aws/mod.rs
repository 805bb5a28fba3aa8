//! Adapters to AWS: the only code that talks to AWS services.
//!
//! Each service gets a thin module that calls the SDK and turns what comes back into domain
//! values. Every SDK error goes through [`AwsError::from_sdk`], the one place that makes AWS's
//! answers actionable: which IAM action was denied, how to get credentials, what exists instead.

pub mod access;
pub mod audit_sources;
pub mod calls;
pub mod cloudtrail;
pub mod cluster_api;
pub mod configmap;
pub mod context;
pub mod creator_sources;
pub mod eks;
pub mod eks_access;
pub mod eks_nodes;
pub mod eks_tags;
pub mod entries_read;
pub mod entries_write;
pub mod iam;
pub mod iam_write;
pub mod migrate_adapter;
pub mod organizations;
pub mod partition;
pub mod plan_runner;
pub mod ports;
pub mod ratelimit;
pub mod s3_objects;
pub mod s3trail;
pub mod sts;
pub mod token;
pub mod triage_sources;
pub mod undo;

/// The error type lives with the ports (the domain matches on its kind); re-exported here so
/// adapters keep writing `aws::AwsError`.
pub use crate::ports::error::{AwsError, AwsErrorKind};
pub use context::AwsContext;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::error::Error as StdError;
use std::fmt;

impl AwsError {
    /// Classifies an SDK error for `action` on `resource` (an ARN or name, for the message).
    pub fn from_sdk<E, R>(action: &str, resource: &str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let stage = match &err {
            SdkError::ConstructionFailure(_) => Stage::Construction,
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => Stage::Dispatch,
            SdkError::ResponseError(_) => Stage::Response,
            _ => Stage::Service,
        };
        let service_meta = err.as_service_error().map(|e| {
            (
                e.code().map(str::to_string),
                e.message().map(str::to_string),
            )
        });
        let chain = error_chain_text(&err);
        let (code, aws_message) = service_meta.unwrap_or((None, None));
        let mut e = if chain.contains(context::SSO_LOGIN) {
            context::sso_error(&chain)
        } else {
            classify(
                action,
                resource,
                stage,
                code.as_deref(),
                aws_message.as_deref(),
                &chain,
            )
        };
        e.code = code;
        e.source = Some(Box::new(err));
        e
    }
}

/// Where in the request's life the SDK failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before sending: often credentials that could not be resolved.
    Construction,
    /// Sending: DNS, TLS, connection, timeout — or credentials resolved lazily.
    Dispatch,
    /// An answer that could not be understood.
    Response,
    /// AWS answered with an error.
    Service,
}

/// Every message in an error's source chain, innermost last, for matching credential and
/// network failures that the SDK reports as construction or dispatch failures.
fn error_chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        parts.push(e.to_string());
        cur = e.source();
    }
    parts.join(" | ")
}

const CREDENTIALS_HINT: &str = "set credentials for the account that owns the cluster: \
`aws sso login --profile NAME` then `--profile NAME`, or export AWS_ACCESS_KEY_ID / \
AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or run from a host with an instance role";

/// The decision table behind [`AwsError::from_sdk`], kept pure so that it can be tested.
fn classify(
    action: &str,
    resource: &str,
    stage: Stage,
    code: Option<&str>,
    aws_message: Option<&str>,
    chain: &str,
) -> AwsError {
    let msg = aws_message.unwrap_or("").to_string();
    let code_s = code.unwrap_or("");
    let lower_chain = chain.to_ascii_lowercase();
    let (kind, message, hint) =
        match code_s {
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "UnauthorizedException"
            | "AuthorizationError" => (
                AwsErrorKind::AccessDenied,
                if msg.is_empty() {
                    format!("not allowed on {resource}")
                } else {
                    msg
                },
                Some(format!(
                    "grant `{action}` on `{resource}` to the identity you are using \
                 (see `eks-breakglass policy`), or use an identity that has it"
                )),
            ),
            "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => (
                AwsErrorKind::BadCredentials,
                format!("the session token has expired ({msg})"),
                Some(format!("refresh your credentials: {CREDENTIALS_HINT}")),
            ),
            "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "InvalidAccessKeyId"
            | "IncompleteSignature" => (
                AwsErrorKind::BadCredentials,
                format!("AWS does not accept these credentials ({code_s}: {msg})"),
                Some(format!(
                    "check the access key and secret in use: {CREDENTIALS_HINT}"
                )),
            ),
            "ResourceNotFoundException"
            | "NoSuchEntity"
            | "NoSuchEntityException"
            | "NotFound"
            | "NoSuchBucket"
            | "NoSuchKey"
            | "TrailNotFoundException" => (
                AwsErrorKind::NotFound,
                if msg.is_empty() {
                    format!("{resource} not found")
                } else {
                    msg
                },
                None,
            ),
            "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded" => (
                AwsErrorKind::Throttled,
                format!("AWS kept throttling the requests ({msg})"),
                Some("wait a minute and retry; another tool may be using the same API rate".into()),
            ),
            "InvalidParameterException"
            | "InvalidRequestException"
            | "ValidationError"
            | "ValidationException"
            | "InvalidParameterValue"
            | "MalformedPolicyDocument"
            | "InvalidLookupAttributesException" => (
                AwsErrorKind::InvalidInput,
                if msg.is_empty() {
                    code_s.to_string()
                } else {
                    msg
                },
                None,
            ),
            "" => {
                let creds = [
                    "no credentials",
                    "credentialsnotloaded",
                    "failed to load credentials",
                    "could not find credentials",
                    "no providers in chain",
                    "identity resolver",
                ];
                if matches!(stage, Stage::Construction | Stage::Dispatch)
                    && creds.iter().any(|c| lower_chain.contains(c))
                {
                    (
                        AwsErrorKind::NoCredentials,
                        "no AWS credentials found".to_string(),
                        Some(CREDENTIALS_HINT.to_string()),
                    )
                } else if lower_chain.contains("expired") {
                    (
                        AwsErrorKind::BadCredentials,
                        "the credentials have expired".to_string(),
                        Some(format!("refresh your credentials: {CREDENTIALS_HINT}")),
                    )
                } else if stage == Stage::Dispatch {
                    (
                    AwsErrorKind::Unreachable,
                    format!("could not reach the AWS endpoint for {action} ({})", last_part(chain)),
                    Some("check the network, the proxy (HTTPS_PROXY) and the region (--region); \
                          a wrong region name makes the endpoint unresolvable"
                        .into()),
                )
                } else {
                    (
                        AwsErrorKind::Service,
                        format!("unexpected answer from AWS: {}", last_part(chain)),
                        Some(
                            "check the endpoint configuration (AWS_ENDPOINT_URL*) and the region"
                                .into(),
                        ),
                    )
                }
            }
            other => (
                AwsErrorKind::Service,
                if msg.is_empty() {
                    other.to_string()
                } else {
                    format!("{other}: {msg}")
                },
                None,
            ),
        };
    let mut e = AwsError::new(action, kind, message);
    e.hint = hint;
    e
}

/// The innermost cause in a joined chain: usually the one that says what really happened.
fn last_part(s: &str) -> &str {
    s.rsplit(" | ").next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_action_and_resource() {
        let e = classify(
            "eks:DescribeCluster",
            "arn:aws:eks:us-east-1:1:cluster/prod",
            Stage::Service,
            Some("AccessDeniedException"),
            Some("User: arn:aws:iam::1:user/bob is not authorized to perform: eks:DescribeCluster"),
            "",
        );
        assert_eq!(e.kind, AwsErrorKind::AccessDenied);
        assert!(e.to_string().contains("eks:DescribeCluster"));
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("eks:DescribeCluster") && hint.contains("cluster/prod"),
            "{hint}"
        );
    }

    #[test]
    fn missing_credentials_say_how_to_get_them() {
        let e = classify(
            "sts:GetCallerIdentity",
            "-",
            Stage::Dispatch,
            None,
            None,
            "DispatchFailure | an identity resolver ... no credentials",
        );
        assert_eq!(e.kind, AwsErrorKind::NoCredentials);
        assert!(e.hint.unwrap().contains("aws sso login"));
    }

    #[test]
    fn expired_token_is_bad_credentials() {
        let e = classify(
            "eks:ListClusters",
            "-",
            Stage::Service,
            Some("ExpiredTokenException"),
            Some("expired"),
            "",
        );
        assert_eq!(e.kind, AwsErrorKind::BadCredentials);
    }

    #[test]
    fn unreachable_endpoint() {
        let e = classify(
            "eks:DescribeCluster",
            "x",
            Stage::Dispatch,
            None,
            None,
            "DispatchFailure(ConnectorError { kind: Io, source: connection refused })",
        );
        assert_eq!(e.kind, AwsErrorKind::Unreachable);
    }
}
