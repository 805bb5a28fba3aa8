//! CloudTrail records: the CreateCluster events the sim records or seeds, and background noise.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::cloudtrail::{Record, TrailEvent};
use crate::identity::{Identity, PrincipalKind};
use crate::state::uuid;

/// Who made a call, as CloudTrail shows it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_identity: Value,
    /// LookupEvents `Username`: the IAM user name, the role session name, or `root`.
    pub username: String,
    pub access_key_id: String,
    pub invoked_by: Option<String>,
    pub user_agent: String,
    pub source_ip: String,
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn user_actor(arn: &str, user_id: &str, account: &str, access_key_id: &str) -> Actor {
    let name = arn.rsplit('/').next().unwrap_or_default().to_string();
    Actor {
        user_identity: json!({
            "type": "IAMUser",
            "principalId": user_id,
            "arn": arn,
            "accountId": account,
            "accessKeyId": access_key_id,
            "userName": name,
        }),
        username: name,
        access_key_id: access_key_id.into(),
        invoked_by: None,
        user_agent: String::new(),
        source_ip: String::new(),
    }
}

/// A federated user (GetFederationToken of an IAM user): CloudTrail's `FederatedUser`
/// identity, `principalId` `ACCOUNT:NAME`, the IAM user as session issuer.
pub fn federated_actor(
    user_arn: &str,
    user_id: &str,
    account: &str,
    partition: &str,
    name: &str,
    access_key_id: &str,
    created: DateTime<Utc>,
) -> Actor {
    let user_name = user_arn.rsplit('/').next().unwrap_or_default().to_string();
    Actor {
        user_identity: json!({
            "type": "FederatedUser",
            "principalId": format!("{account}:{name}"),
            "arn": format!("arn:{partition}:sts::{account}:federated-user/{name}"),
            "accountId": account,
            "accessKeyId": access_key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "IAMUser",
                    "principalId": user_id,
                    "arn": user_arn,
                    "accountId": account,
                    "userName": user_name,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": iso(created), "mfaAuthenticated": "false"},
            },
        }),
        username: name.into(),
        access_key_id: access_key_id.into(),
        invoked_by: None,
        user_agent: String::new(),
        source_ip: String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn role_actor(
    role_arn: &str,
    role_id: &str,
    account: &str,
    partition: &str,
    session: &str,
    access_key_id: &str,
    created: DateTime<Utc>,
) -> Actor {
    let name = role_arn.rsplit('/').next().unwrap_or_default().to_string();
    Actor {
        user_identity: json!({
            "type": "AssumedRole",
            "principalId": format!("{role_id}:{session}"),
            "arn": format!("arn:{partition}:sts::{account}:assumed-role/{name}/{session}"),
            "accountId": account,
            "accessKeyId": access_key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": role_arn,
                    "accountId": account,
                    "userName": name,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": iso(created), "mfaAuthenticated": "false"},
            },
        }),
        username: session.into(),
        access_key_id: access_key_id.into(),
        invoked_by: None,
        user_agent: String::new(),
        source_ip: String::new(),
    }
}

pub fn root_actor(account: &str, partition: &str, access_key_id: &str) -> Actor {
    Actor {
        user_identity: json!({
            "type": "Root",
            "principalId": account,
            "arn": format!("arn:{partition}:iam::{account}:root"),
            "accountId": account,
            "accessKeyId": access_key_id,
        }),
        username: "root".into(),
        access_key_id: access_key_id.into(),
        invoked_by: None,
        user_agent: String::new(),
        source_ip: String::new(),
    }
}

pub fn identity_actor(id: &Identity) -> Actor {
    match id.kind {
        PrincipalKind::IamUser => {
            user_actor(&id.arn, &id.principal_id, &id.account, &id.access_key_id)
        }
        PrincipalKind::AssumedRole => role_actor(
            &id.principal_arn,
            &id.principal_id,
            &id.account,
            &id.partition,
            &id.session_name,
            &id.access_key_id,
            Utc::now(),
        ),
    }
}

pub struct CreateClusterCall<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub time: DateTime<Utc>,
    pub name: &'a str,
    pub arn: &'a str,
    pub version: &'a str,
    pub role_arn: &'a str,
    pub auth_mode: &'a str,
    pub bootstrap: bool,
    pub endpoint_public: bool,
    pub endpoint_private: bool,
    /// `Some((code, message))` for a failed call.
    pub error: Option<(&'a str, &'a str)>,
}

/// An `eks.amazonaws.com` CreateCluster record.
pub fn create_cluster_event(actor: &Actor, call: &CreateClusterCall<'_>) -> TrailEvent {
    let event_id = uuid();
    let access_config = json!({
        "authenticationMode": call.auth_mode,
        "bootstrapClusterCreatorAdminPermissions": call.bootstrap,
    });
    let mut record = json!({
        "eventVersion": "1.09",
        "userIdentity": actor.user_identity,
        "eventTime": iso(call.time),
        "eventSource": "eks.amazonaws.com",
        "eventName": "CreateCluster",
        "awsRegion": call.region,
        "sourceIPAddress": actor.source_ip,
        "userAgent": actor.user_agent,
        "requestParameters": {
            "name": call.name,
            "version": call.version,
            "roleArn": call.role_arn,
            "resourcesVpcConfig": {
                "endpointPublicAccess": call.endpoint_public,
                "endpointPrivateAccess": call.endpoint_private,
            },
            "accessConfig": access_config,
        },
        "responseElements": null,
        "requestID": uuid(),
        "eventID": event_id,
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": call.account,
        "eventCategory": "Management",
    });
    match call.error {
        Some((code, message)) => {
            record["errorCode"] = json!(code);
            record["errorMessage"] = json!(message);
        }
        None => {
            record["responseElements"] = json!({
                "cluster": {
                    "name": call.name,
                    "arn": call.arn,
                    "createdAt": call.time.timestamp_millis() as f64 / 1000.0,
                    "version": call.version,
                    "roleArn": call.role_arn,
                    "status": "CREATING",
                    "platformVersion": "eks.1",
                    "accessConfig": access_config,
                }
            });
        }
    }
    if let Some(by) = &actor.invoked_by {
        record["invokedBy"] = json!(by);
    }
    TrailEvent {
        event_id,
        time_ms: call.time.timestamp_millis(),
        event_name: "CreateCluster".into(),
        event_source: "eks.amazonaws.com".into(),
        read_only: false,
        username: actor.username.clone(),
        access_key_id: actor.access_key_id.clone(),
        resources: if call.error.is_none() {
            vec![("AWS::EKS::Cluster".into(), call.name.into())]
        } else {
            Vec::new()
        },
        record: Record::Full(Arc::new(record)),
    }
}

/// The CloudTrail record of a generic management event.
#[allow(clippy::too_many_arguments)]
pub fn build_record(
    actor: &Actor,
    region: &str,
    account: &str,
    time: DateTime<Utc>,
    source: &str,
    name: &str,
    read_only: bool,
    request: Value,
    response: Value,
    event_id: &str,
    error: Option<(&str, &str)>,
) -> Value {
    let mut record = json!({
        "eventVersion": "1.09",
        "userIdentity": actor.user_identity,
        "eventTime": iso(time),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": actor.source_ip,
        "userAgent": actor.user_agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": format!("{}-r", &event_id[..event_id.len().min(30)]),
        "eventID": event_id,
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management",
    });
    if let Some((code, message)) = error {
        record["errorCode"] = json!(code);
        record["errorMessage"] = json!(message);
    }
    record
}

/// A generic management event (e.g. the DeleteCluster of a reused name).
#[allow(clippy::too_many_arguments)]
pub fn generic_event(
    actor: &Actor,
    region: &str,
    account: &str,
    time: DateTime<Utc>,
    source: &str,
    name: &str,
    read_only: bool,
    request: Value,
    response: Value,
    resources: Vec<(String, String)>,
    error: Option<(&str, &str)>,
) -> TrailEvent {
    let event_id = uuid();
    let record = build_record(
        actor, region, account, time, source, name, read_only, request, response, &event_id, error,
    );
    TrailEvent {
        event_id,
        time_ms: time.timestamp_millis(),
        event_name: name.into(),
        event_source: source.into(),
        read_only,
        username: actor.username.clone(),
        access_key_id: actor.access_key_id.clone(),
        resources,
        record: Record::Full(Arc::new(record)),
    }
}
