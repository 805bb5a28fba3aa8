//! `eks-breakglass token` against the reference (`aws eks get-token`, botocore's signer) and
//! against moto for `--role-arn`.

mod common;

use common::{Moto, product, venv_bin};
use eks_breakglass::aws::token::{decode_token, presign_url};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, SystemTime};

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn query(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn exec_credential(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).expect("ExecCredential JSON")
}

fn token_url(cred: &serde_json::Value) -> String {
    decode_token(cred["status"]["token"].as_str().unwrap()).expect("decodable token")
}

#[test]
fn same_parameters_as_aws_eks_get_token() {
    let ours = product()
        .args(["token", "--cluster", "prod", "--region", "eu-west-1"])
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .env("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLE")
        .output()
        .unwrap();
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let theirs = Command::new(venv_bin("aws"))
        .args([
            "eks",
            "get-token",
            "--cluster-name",
            "prod",
            "--region",
            "eu-west-1",
        ])
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .env("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_STS")
        .output()
        .unwrap();
    assert!(
        theirs.status.success(),
        "{}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let (ours, theirs) = (
        exec_credential(&ours.stdout),
        exec_credential(&theirs.stdout),
    );
    assert_eq!(ours["kind"], theirs["kind"]);
    assert_eq!(ours["apiVersion"], theirs["apiVersion"]);
    assert_eq!(ours["spec"], theirs["spec"]);
    let (ou, tu) = (token_url(&ours), token_url(&theirs));
    let (o, t) = (url::Url::parse(&ou).unwrap(), url::Url::parse(&tu).unwrap());
    assert_eq!(o.scheme(), t.scheme());
    assert_eq!(o.host_str(), t.host_str());
    assert_eq!(o.path(), t.path());
    let (oq, tq) = (query(&ou), query(&tu));
    assert_eq!(
        oq.keys().collect::<Vec<_>>(),
        tq.keys().collect::<Vec<_>>(),
        "parameter names differ"
    );
    for k in [
        "Action",
        "Version",
        "X-Amz-Algorithm",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
    ] {
        assert_eq!(oq[k], tq[k], "{k} differs");
    }
    // Expiration: now + 14 minutes, in the same RFC 3339 'Z' form.
    let exp = chrono::DateTime::parse_from_rfc3339(
        ours["status"]["expirationTimestamp"].as_str().unwrap(),
    )
    .unwrap();
    let delta = exp.timestamp() - chrono::Utc::now().timestamp();
    assert!(
        (13 * 60..=14 * 60 + 5).contains(&delta),
        "expiration {delta}s from now"
    );
    assert!(
        ours["status"]["expirationTimestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
}

/// botocore's own presigner (what awscli's get-token calls), with the clock fixed.
const BOTOCORE_PRESIGN: &str = r#"
import sys, datetime
from unittest import mock
import botocore.session
from awscli.customizations.eks.get_token import STSClientFactory, TokenGenerator
ak, sk, tok, region, cluster, epoch = sys.argv[1:7]
fixed = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).replace(tzinfo=None)
session = botocore.session.get_session()
session.set_credentials(ak, sk, tok or None)
with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
    sts = STSClientFactory(session).get_sts_client(region_name=region)
    print(TokenGenerator(sts)._get_presigned_url(cluster))
"#;

fn botocore_url(token: &str, region: &str, cluster: &str, epoch: u64) -> String {
    let out = Command::new(venv_bin("python"))
        .args([
            "-c",
            BOTOCORE_PRESIGN,
            AK,
            SK,
            token,
            region,
            cluster,
            &epoch.to_string(),
        ])
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_STS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn signature_matches_botocore_for_fixed_credentials_and_time() {
    let epoch = 1_767_225_600; // 2026-01-01T00:00:00Z
    for (session_token, region, cluster) in [
        ("", "us-east-1", "prod"),
        ("FwoGZXIvYXdzE+/=session", "eu-west-1", "team-a.cluster_1"),
        ("", "cn-north-1", "china"),
        ("", "us-gov-west-1", "gov"),
    ] {
        let creds = aws_credential_types::Credentials::new(
            AK,
            SK,
            (!session_token.is_empty()).then(|| session_token.to_string()),
            None,
            "test",
        );
        let ours = presign_url(
            &creds,
            region,
            cluster,
            SystemTime::UNIX_EPOCH + Duration::from_secs(epoch),
        )
        .unwrap();
        let theirs = botocore_url(session_token, region, cluster, epoch);
        assert_eq!(query(&ours), query(&theirs), "for {region}/{cluster}");
        assert_eq!(
            url::Url::parse(&ours).unwrap().host_str(),
            url::Url::parse(&theirs).unwrap().host_str()
        );
    }
}

#[test]
fn token_makes_no_network_call_without_role_arn() {
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let url = format!("http://{}", trap.local_addr().unwrap());
    let out = product()
        .args(["token", "--cluster", "prod", "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .env("AWS_ENDPOINT_URL", &url)
        .env("AWS_ENDPOINT_URL_STS", &url)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(trap.accept().is_err(), "token connected to the network");
}

#[test]
fn exec_info_v1_is_honoured() {
    let out = product()
        .args(["token", "--cluster", "prod", "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .env("KUBERNETES_EXEC_INFO", r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        exec_credential(&out.stdout)["apiVersion"],
        "client.authentication.k8s.io/v1"
    );
}

#[test]
fn role_arn_signs_with_the_assumed_session() {
    let moto = Moto::start();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    moto.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "breakglass",
        "--path",
        "/ops/",
        "--assume-role-policy-document",
        trust,
    ]);
    let out = product()
        .args([
            "token",
            "--cluster",
            "prod",
            "--role-arn",
            "arn:aws:iam::123456789012:role/ops/breakglass",
        ])
        .envs(moto.env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let q = query(&token_url(&exec_credential(&out.stdout)));
    let key = q["X-Amz-Credential"].split('/').next().unwrap().to_string();
    assert_ne!(
        key, "AKIAIOSFODNN7EXAMPLE",
        "signed with the caller, not the role session"
    );
    let (_, body) = common::http_get(
        moto.url.trim_start_matches("http://"),
        "/moto-api/data.json",
    )
    .unwrap();
    let data: serde_json::Value = serde_json::from_str(&body).unwrap();
    let session = data["sts"]["AssumedRole"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["access_key_id"] == key.as_str())
        .expect("the token's access key is an STS session moto issued");
    assert_eq!(
        session["role_arn"],
        "arn:aws:iam::123456789012:role/ops/breakglass"
    );
    assert_eq!(
        q["X-Amz-Security-Token"],
        session["session_token"].as_str().unwrap()
    );
    assert!(
        session["session_name"]
            .as_str()
            .unwrap()
            .starts_with("eks-breakglass-")
    );
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_input_gives_one_line_cause_and_hint() {
    // No credentials at all.
    let out = product()
        .args(["token", "--cluster", "prod", "--region", "us-east-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.starts_with("error: no AWS credentials found"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // Malformed role ARN.
    let out = product()
        .args([
            "token",
            "--cluster",
            "prod",
            "--region",
            "us-east-1",
            "--role-arn",
            "breakglass",
        ])
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("'breakglass' is not an ARN") && err.contains("hint: a role ARN looks like"),
        "{err}"
    );

    // A user ARN where a role is needed.
    let out = product()
        .args([
            "token",
            "--cluster",
            "prod",
            "--region",
            "us-east-1",
            "--role-arn",
            "arn:aws:iam::123456789012:user/bob",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("is not an IAM role ARN"));

    // A malformed region, with a suggestion.
    let out = product()
        .args(["token", "--cluster", "prod", "--region", "us-east1"])
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("not a valid AWS region") && err.contains("did you mean --region us-east-1"),
        "{err}"
    );

    // No region anywhere.
    let out = product()
        .args(["token", "--cluster", "prod"])
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no AWS region is set"));
}
