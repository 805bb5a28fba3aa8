//! Review (session 3, issue 17 item 1): where eks-sim's CreateAccessEntry is kinder than EKS.

mod common;

use common::{Moto, Sim, aws};
use std::path::Path;

/// "For nodes (EC2 (for EKS Auto Mode), EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, and
/// HYBRID_LINUX), the only valid ARN is IAM roles" (EKS API Reference, CreateAccessEntry
/// principalArn; the same text in aws-sdk-eks CreateAccessEntryInput docs). The sim accepts a
/// node entry for an IAM user.
#[test]
fn review_node_entry_types_refuse_an_iam_user() {
    let moto = Moto::start();
    let sim = Sim::start(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/review_s3_entries.yaml"),
        &moto,
    );
    for t in ["EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX"] {
        let (ok, out, err) = aws(
            &[
                "eks",
                "create-access-entry",
                "--cluster-name",
                "api1",
                "--principal-arn",
                "arn:aws:iam::123456789012:user/bob",
                "--type",
                t,
            ],
            &sim.env(),
        );
        assert!(
            !ok && err.contains("InvalidParameterException"),
            "EKS refuses a {t} entry for an IAM user; the sim made it: {out}{err}"
        );
    }
}
