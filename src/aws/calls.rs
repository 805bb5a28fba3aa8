//! A record of every AWS call a run makes.
//!
//! Three uses, one mechanism: the incident report counts calls per service; `--call-log FILE`
//! lets a security reviewer see exactly which IAM actions a command used; and the `policy`
//! command's test compares those actions with the published minimum policy. It is an SDK
//! interceptor, so it sees every attempt the SDK sends — retries included — and nothing else.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One HTTP attempt of one AWS operation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CallRecord {
    /// The IAM action the operation needs, e.g. `eks:DescribeCluster`.
    pub action: String,
    pub service: String,
    pub operation: String,
    pub at: DateTime<Utc>,
}

/// The shared, append-only list of calls of one run.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    records: Arc<Mutex<Vec<CallRecord>>>,
}

impl CallLog {
    pub fn record(&self, service: &str, operation: &str) {
        let rec = CallRecord {
            action: iam_action(service, operation),
            service: service.to_string(),
            operation: operation.to_string(),
            at: Utc::now(),
        };
        tracing::debug!("AWS call {}", rec.action);
        if let Ok(mut v) = self.records.lock() {
            v.push(rec);
        }
    }

    pub fn records(&self) -> Vec<CallRecord> {
        self.records.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Calls per service prefix (`eks`, `iam`, …).
    pub fn counts_by_service(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for r in self.records() {
            let svc = r.action.split(':').next().unwrap_or_default().to_string();
            *m.entry(svc).or_insert(0) += 1;
        }
        m
    }

    /// The interceptor to register on an SDK client's config.
    pub fn interceptor(&self) -> CallRecorder {
        CallRecorder { log: self.clone() }
    }

    /// Writes the records as JSON lines (for `--call-log FILE`).
    pub fn write_jsonl(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut out = String::new();
        for r in self.records() {
            out.push_str(&serde_json::to_string(&r).map_err(std::io::Error::other)?);
            out.push('\n');
        }
        std::fs::write(path, out)
    }
}

/// The SDK interceptor behind [`CallLog`].
#[derive(Debug, Clone)]
pub struct CallRecorder {
    log: CallLog,
}

impl Intercept for CallRecorder {
    fn name(&self) -> &'static str {
        "eks-breakglass-call-recorder"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(md) = cfg.load::<Metadata>() {
            self.log.record(md.service(), md.name());
        }
        Ok(())
    }
}

/// The IAM action an SDK operation needs: the service prefix plus the operation name, with the
/// few exceptions where IAM names differ from API names.
pub fn iam_action(service: &str, operation: &str) -> String {
    let prefix = match service.to_ascii_lowercase().as_str() {
        "eks" => "eks",
        "cloudtrail" => "cloudtrail",
        "iam" => "iam",
        "sts" => "sts",
        "s3" => "s3",
        "organizations" => "organizations",
        other => return format!("{other}:{operation}"),
    }
    .to_string();
    let op = match (prefix.as_str(), operation) {
        ("s3", "ListObjectsV2" | "ListObjects") => "ListBucket",
        ("s3", "HeadObject") => "GetObject",
        _ => operation,
    };
    format!("{prefix}:{op}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_follow_iam_names() {
        assert_eq!(iam_action("eks", "DescribeCluster"), "eks:DescribeCluster");
        assert_eq!(
            iam_action("CloudTrail", "LookupEvents"),
            "cloudtrail:LookupEvents"
        );
        assert_eq!(iam_action("s3", "ListObjectsV2"), "s3:ListBucket");
    }

    #[test]
    fn counts_per_service() {
        let log = CallLog::default();
        log.record("eks", "DescribeCluster");
        log.record("eks", "ListClusters");
        log.record("iam", "GetUser");
        let c = log.counts_by_service();
        assert_eq!(c["eks"], 2);
        assert_eq!(c["iam"], 1);
    }
}
