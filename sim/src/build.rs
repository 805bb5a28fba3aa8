//! Building the world of a scenario: principals in moto, clusters, history, deletions, noise,
//! trail files.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::admin::set_aws_auth;
use std::sync::Arc;

use crate::cloudtrail::{Record, TrailEvent};
use crate::eks::{NewCluster, add_creator_entry, create_cluster_record};
use crate::events::{
    Actor, CreateClusterCall, build_record, create_cluster_event, generic_event, role_actor,
    root_actor, user_actor,
};
use crate::moto::xml_tag;
use crate::scenario::{CreatorSpec, Scenario, parse_time};
use crate::state::{
    AccessEntry, AccessScope, AssociatedPolicy, Creator, FargateProfile, Nodegroup, Scope,
    SharedSim, default_entry_username, lock, random_hex, uuid, write,
};

#[derive(Debug, Clone, Default)]
pub struct UserOut {
    pub arn: String,
    pub user_id: String,
    pub path: String,
    pub keys: Vec<(String, String)>,
    pub deleted: bool,
    pub original_user_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct RoleOut {
    pub arn: String,
    pub role_id: String,
    pub path: String,
    pub sessions: BTreeMap<String, Value>,
    pub deleted: bool,
    pub original_role_id: String,
}

#[derive(Debug, Default)]
pub struct Built {
    pub users: BTreeMap<String, UserOut>,
    pub roles: BTreeMap<String, RoleOut>,
    /// Organization member accounts: name -> (account id, the organization role in it).
    pub members: BTreeMap<String, (String, RoleOut)>,
    pub load_ms: u128,
    pub events: usize,
}

const DEFAULT_UA: &str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2 prompt/off command/eks.create-cluster";
const DEFAULT_IP: &str = "203.0.113.10";

fn norm_path(p: &str) -> String {
    let mut p = p.to_string();
    if !p.starts_with('/') {
        p.insert(0, '/');
    }
    if !p.ends_with('/') {
        p.push('/');
    }
    p
}

async fn create_user(
    sim: &SharedSim,
    name: &str,
    path: &str,
    keys: u32,
) -> Result<UserOut, String> {
    let xml = sim
        .moto
        .query(
            "iam",
            &[
                ("Action", "CreateUser"),
                ("Version", "2010-05-08"),
                ("UserName", name),
                ("Path", path),
            ],
        )
        .await?;
    let mut out = UserOut {
        arn: xml_tag(&xml, "Arn").ok_or("CreateUser: no Arn")?,
        user_id: xml_tag(&xml, "UserId").ok_or("CreateUser: no UserId")?,
        path: path.to_string(),
        ..Default::default()
    };
    for _ in 0..keys {
        let xml = sim
            .moto
            .query(
                "iam",
                &[
                    ("Action", "CreateAccessKey"),
                    ("Version", "2010-05-08"),
                    ("UserName", name),
                ],
            )
            .await?;
        out.keys.push((
            xml_tag(&xml, "AccessKeyId").ok_or("CreateAccessKey: no AccessKeyId")?,
            xml_tag(&xml, "SecretAccessKey").ok_or("CreateAccessKey: no SecretAccessKey")?,
        ));
    }
    out.original_user_id = out.user_id.clone();
    Ok(out)
}

async fn delete_user(sim: &SharedSim, name: &str, u: &UserOut) -> Result<(), String> {
    for (k, _) in &u.keys {
        sim.moto
            .query(
                "iam",
                &[
                    ("Action", "DeleteAccessKey"),
                    ("Version", "2010-05-08"),
                    ("UserName", name),
                    ("AccessKeyId", k),
                ],
            )
            .await?;
    }
    sim.moto
        .query(
            "iam",
            &[
                ("Action", "DeleteUser"),
                ("Version", "2010-05-08"),
                ("UserName", name),
            ],
        )
        .await?;
    Ok(())
}

fn trust_doc(sim: &SharedSim, aws: &[String], service: &[String]) -> String {
    let mut principal = serde_json::Map::new();
    let aws: Vec<String> = if aws.is_empty() && service.is_empty() {
        vec![format!("arn:{}:iam::{}:root", sim.partition, sim.account)]
    } else {
        aws.to_vec()
    };
    if !aws.is_empty() {
        principal.insert("AWS".into(), json!(aws));
    }
    if !service.is_empty() {
        principal.insert("Service".into(), json!(service));
    }
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}).to_string()
}

async fn create_role(
    sim: &SharedSim,
    name: &str,
    path: &str,
    trust: &str,
) -> Result<RoleOut, String> {
    let xml = sim
        .moto
        .query(
            "iam",
            &[
                ("Action", "CreateRole"),
                ("Version", "2010-05-08"),
                ("RoleName", name),
                ("Path", path),
                ("AssumeRolePolicyDocument", trust),
            ],
        )
        .await?;
    let id = xml_tag(&xml, "RoleId").ok_or("CreateRole: no RoleId")?;
    crate::iamrules::bind_trust(&sim.moto, &sim.iam, name, trust).await;
    Ok(RoleOut {
        arn: xml_tag(&xml, "Arn").ok_or("CreateRole: no Arn")?,
        role_id: id.clone(),
        path: path.to_string(),
        original_role_id: id,
        ..Default::default()
    })
}

async fn assume(sim: &SharedSim, role_arn: &str, session: &str) -> Result<Value, String> {
    let xml = sim
        .moto
        .query(
            "sts",
            &[
                ("Action", "AssumeRole"),
                ("Version", "2011-06-15"),
                ("RoleArn", role_arn),
                ("RoleSessionName", session),
            ],
        )
        .await?;
    Ok(json!({
        "accessKeyId": xml_tag(&xml, "AccessKeyId").ok_or("AssumeRole: no AccessKeyId")?,
        "secretAccessKey": xml_tag(&xml, "SecretAccessKey").ok_or("AssumeRole: no SecretAccessKey")?,
        "sessionToken": xml_tag(&xml, "SessionToken").ok_or("AssumeRole: no SessionToken")?,
        "arn": xml_tag(&xml, "Arn").unwrap_or_default(),
    }))
}

fn fake_key(prefix: &str) -> String {
    format!("{prefix}{}", random_hex(16).to_uppercase())
}

/// Resolves a creator spec to (principal ARN, unique id, actor, role-or-user name to delete).
async fn creator_actor(
    sim: &SharedSim,
    built: &mut Built,
    spec: &CreatorSpec,
    cluster: &str,
    account: &str,
    at: DateTime<Utc>,
) -> Result<(Creator, Actor), String> {
    let kind = spec.kind.clone().unwrap_or_else(|| {
        if spec.role.is_some() {
            "role".into()
        } else if spec.user.is_some() {
            "user".into()
        } else {
            "root".into()
        }
    });
    let mut actor;
    let creator;
    match kind.as_str() {
        "user" => {
            let name = spec
                .user
                .as_deref()
                .ok_or(format!("cluster {cluster}: creator kind user needs `user`"))?;
            let u = built.users.get(name).ok_or(format!(
                "cluster {cluster}: creator user {name} is not in iam.users"
            ))?;
            let key = u
                .keys
                .first()
                .map(|k| k.0.clone())
                .unwrap_or_else(|| fake_key("AKIA"));
            actor = user_actor(&u.arn, &u.user_id, &sim.account, &key);
            creator = Creator {
                arn: u.arn.clone(),
                principal_id: u.user_id.clone(),
            };
        }
        "role" | "cloudformation" | "sso" => {
            let role_name = if kind == "sso" {
                let ps = spec
                    .permission_set
                    .clone()
                    .unwrap_or_else(|| "AdministratorAccess".into());
                let name = format!("AWSReservedSSO_{ps}_{}", random_hex(16));
                let path = if spec.sso_region_in_path.unwrap_or(true) {
                    format!("/aws-reserved/sso.amazonaws.com/{}/", sim.region)
                } else {
                    "/aws-reserved/sso.amazonaws.com/".to_string()
                };
                let trust = trust_doc(sim, &[], &[]);
                let r = create_role(sim, &name, &path, &trust).await?;
                built.roles.insert(name.clone(), r);
                name
            } else {
                spec.role.clone().ok_or(format!(
                    "cluster {cluster}: creator kind {kind} needs `role`"
                ))?
            };
            // In a member account, the organization role is the member's own.
            let member_role = built
                .members
                .values()
                .find(|(id, r)| id == account && r.arn.ends_with(&format!("/{role_name}")))
                .map(|(_, r)| r);
            let r = member_role
                .or_else(|| built.roles.get(&role_name))
                .ok_or(format!(
                    "cluster {cluster}: creator role {role_name} is not in iam.roles"
                ))?;
            let session = spec.session.clone().unwrap_or_else(|| match kind.as_str() {
                "cloudformation" => "AWSCloudFormation".into(),
                "sso" => "oncall@example.com".into(),
                _ => format!("{role_name}-session"),
            });
            let role_account = r.arn.split(':').nth(4).unwrap_or(&sim.account).to_string();
            actor = role_actor(
                &r.arn,
                &r.role_id,
                &role_account,
                &sim.partition,
                &session,
                &fake_key("ASIA"),
                at - TimeDelta::minutes(5),
            );
            if kind == "cloudformation" {
                actor.invoked_by = Some("cloudformation.amazonaws.com".into());
                actor.user_agent = "cloudformation.amazonaws.com".into();
                actor.source_ip = "cloudformation.amazonaws.com".into();
            }
            creator = Creator {
                arn: r.arn.clone(),
                principal_id: r.role_id.clone(),
            };
        }
        "federated" => {
            // GetFederationToken of an IAM user: EKS's creator is the federated identity
            // (`arn:…:sts::A:federated-user/NAME`, id `A:NAME`), not the user behind it, so
            // no key of that user matches it.
            let name = spec.user.as_deref().ok_or(format!(
                "cluster {cluster}: creator kind federated needs `user` (the IAM user that called GetFederationToken)"
            ))?;
            let u = built.users.get(name).ok_or(format!(
                "cluster {cluster}: creator user {name} is not in iam.users"
            ))?;
            let fed = spec
                .session
                .clone()
                .unwrap_or_else(|| format!("{name}-fed"));
            actor = crate::events::federated_actor(
                &u.arn,
                &u.user_id,
                &sim.account,
                &sim.partition,
                &fed,
                &fake_key("ASIA"),
                at - TimeDelta::minutes(5),
            );
            creator = Creator {
                arn: format!(
                    "arn:{}:sts::{}:federated-user/{fed}",
                    sim.partition, sim.account
                ),
                principal_id: format!("{}:{fed}", sim.account),
            };
        }
        "root" => {
            actor = root_actor(account, &sim.partition, &fake_key("AKIA"));
            creator = Creator {
                arn: format!("arn:{}:iam::{account}:root", sim.partition),
                principal_id: account.to_string(),
            };
        }
        other => {
            return Err(format!(
                "cluster {cluster}: unknown creator kind {other:?} (user, role, root, sso, cloudformation, federated)"
            ));
        }
    }
    if actor.user_agent.is_empty() {
        actor.user_agent = spec.user_agent.clone().unwrap_or_else(|| DEFAULT_UA.into());
    }
    if actor.source_ip.is_empty() {
        actor.source_ip = spec
            .source_ip_address
            .clone()
            .unwrap_or_else(|| DEFAULT_IP.into());
    }
    Ok((creator, actor))
}

/// The Organization in moto (management account: moto's default, the scenario's `account`),
/// its member accounts (moto chooses their ids) and the role CreateAccount makes in each.
async fn build_organization(
    sim: &SharedSim,
    built: &mut Built,
    org: &crate::scenario::OrganizationSpec,
) -> Result<(), String> {
    const ORG: &str = "AWSOrganizationsV20161128";
    sim.moto
        .json_call(
            "organizations",
            &format!("{ORG}.CreateOrganization"),
            &json!({"FeatureSet": "ALL"}),
        )
        .await?;
    for a in &org.accounts {
        let email = a
            .email
            .clone()
            .unwrap_or_else(|| format!("{}@example.com", a.name));
        let out = sim
            .moto
            .json_call(
                "organizations",
                &format!("{ORG}.CreateAccount"),
                &json!({"AccountName": a.name, "Email": email, "RoleName": org.role}),
            )
            .await?;
        let id = out["CreateAccountStatus"]["AccountId"]
            .as_str()
            .ok_or(format!("CreateAccount {}: no AccountId in {out}", a.name))?
            .to_string();
        let xml = sim
            .moto
            .query_in(
                Some(&id),
                "iam",
                &[
                    ("Action", "GetRole"),
                    ("Version", "2010-05-08"),
                    ("RoleName", &org.role),
                ],
            )
            .await
            .map_err(|e| format!("the role {} in account {id}: {e}", org.role))?;
        let role_id = xml_tag(&xml, "RoleId").unwrap_or_default();
        let role = RoleOut {
            arn: xml_tag(&xml, "Arn").unwrap_or_default(),
            role_id: role_id.clone(),
            path: xml_tag(&xml, "Path").unwrap_or_else(|| "/".into()),
            original_role_id: role_id,
            ..Default::default()
        };
        built.members.insert(a.name.clone(), (id, role));
    }
    Ok(())
}

fn role_ref(sim: &SharedSim, built: &Built, r: &str) -> String {
    if r.starts_with("arn:") {
        return r.to_string();
    }
    built
        .roles
        .get(r)
        .map(|x| x.arn.clone())
        .unwrap_or_else(|| format!("arn:{}:iam::{}:role/{r}", sim.partition, sim.account))
}

fn principal_ref(built: &Built, p: &str) -> Option<(String, String)> {
    if p.starts_with("arn:") {
        return built
            .roles
            .values()
            .map(|r| (r.arn.clone(), r.role_id.clone()))
            .chain(
                built
                    .users
                    .values()
                    .map(|u| (u.arn.clone(), u.user_id.clone())),
            )
            .find(|(a, _)| a == p);
    }
    built
        .roles
        .get(p)
        .map(|r| (r.arn.clone(), r.role_id.clone()))
        .or_else(|| {
            built
                .users
                .get(p)
                .map(|u| (u.arn.clone(), u.user_id.clone()))
        })
}

pub async fn build(sim: &SharedSim, sc: &Scenario) -> Result<Built, String> {
    let started = std::time::Instant::now();
    let now = Utc::now();
    let mut built = Built::default();
    for u in &sc.iam.users {
        let out = create_user(sim, &u.name, &norm_path(&u.path), u.access_keys).await?;
        let moto_account = out.arn.split(':').nth(4).unwrap_or_default().to_string();
        if moto_account != sim.account {
            return Err(format!(
                "moto creates principals in account {moto_account}, the scenario says account: {}; \
                 use account: \"{moto_account}\" or start moto with MOTO_ACCOUNT_ID={}",
                sim.account, sim.account
            ));
        }
        built.users.insert(u.name.clone(), out);
    }
    for r in &sc.iam.roles {
        let trust = r
            .trust_policy
            .clone()
            .unwrap_or_else(|| trust_doc(sim, &r.trust.aws, &r.trust.service));
        let out = create_role(sim, &r.name, &norm_path(&r.path), &trust).await?;
        built.roles.insert(r.name.clone(), out);
    }
    if let Some(org) = &sc.organization {
        build_organization(sim, &mut built, org).await?;
    }
    let mut events: Vec<TrailEvent> = Vec::new();
    let mut to_delete: Vec<CreatorSpec> = Vec::new();
    for cs in &sc.clusters {
        let created_at = parse_time(&cs.created_at, now)?;
        let scope = Scope {
            account: match &cs.account {
                None => sim.account.clone(),
                Some(a) if *a == sim.account => a.clone(),
                Some(a) => built
                    .members
                    .get(a)
                    .map(|(id, _)| id.clone())
                    .ok_or(format!(
                        "cluster {}: account {a} is not in organization.accounts",
                        cs.name
                    ))?,
            },
            region: cs.region.clone().unwrap_or_else(|| sim.region.clone()),
        };
        let arn = scope.cluster_arn(&sim.partition, &cs.name);
        let role_arn = cs
            .role_arn
            .as_deref()
            .map(|r| role_ref(sim, &built, r))
            .unwrap_or_else(|| {
                format!(
                    "arn:{}:iam::{}:role/eks-cluster-role",
                    sim.partition, scope.account
                )
            });
        if let Some(reused) = &cs.reused_name {
            let old_at = parse_time(&reused.created_at, now)?;
            let deleted_at = match &reused.deleted_at {
                Some(d) => parse_time(d, now)?,
                None => old_at + TimeDelta::days(1),
            };
            let (_, actor) = creator_actor(
                sim,
                &mut built,
                &reused.creator,
                &cs.name,
                &scope.account,
                old_at,
            )
            .await?;
            events.push(create_cluster_event(
                &actor,
                &CreateClusterCall {
                    region: &scope.region,
                    account: &scope.account,
                    time: old_at,
                    name: &cs.name,
                    arn: &arn,
                    version: "1.27",
                    role_arn: &role_arn,
                    auth_mode: "CONFIG_MAP",
                    bootstrap: true,
                    endpoint_public: true,
                    endpoint_private: false,
                    error: None,
                },
            ));
            events.push(generic_event(
                &actor,
                &scope.region,
                &scope.account,
                deleted_at,
                "eks.amazonaws.com",
                "DeleteCluster",
                false,
                json!({"name": cs.name}),
                json!({"cluster": {"name": cs.name, "arn": arn, "status": "DELETING"}}),
                vec![("AWS::EKS::Cluster".into(), cs.name.clone())],
                None,
            ));
            if reused.creator.deleted {
                to_delete.push(reused.creator.clone());
            }
        }
        let (creator, actor) = creator_actor(
            sim,
            &mut built,
            &cs.creator,
            &cs.name,
            &scope.account,
            created_at,
        )
        .await?;
        create_cluster_record(
            sim,
            &NewCluster {
                name: cs.name.clone(),
                version: cs.version.clone(),
                role_arn: role_arn.clone(),
                auth_mode: cs.authentication_mode.clone(),
                bootstrap: cs.bootstrap_cluster_creator_admin_permissions,
                endpoint_public: cs.endpoint_public_access,
                endpoint_private: cs.endpoint_private_access,
                created_at,
                scope: scope.clone(),
            },
        )
        .await
        .map_err(|(_, _, m)| m)?;
        events.push(create_cluster_event(
            &actor,
            &CreateClusterCall {
                region: &scope.region,
                account: &scope.account,
                time: created_at,
                name: &cs.name,
                arn: &arn,
                version: &cs.version,
                role_arn: &role_arn,
                auth_mode: &cs.authentication_mode,
                bootstrap: cs.bootstrap_cluster_creator_admin_permissions,
                endpoint_public: cs.endpoint_public_access,
                endpoint_private: cs.endpoint_private_access,
                error: None,
            },
        ));
        if cs.creator.deleted {
            to_delete.push(cs.creator.clone());
        }
        let mut world = lock(&sim.world);
        if !cs.tags.is_empty() {
            world.tags.insert(arn.clone(), cs.tags.clone());
        }
        let Some(c) = world.clusters.get_mut(&cs.name) else {
            return Err(format!("cluster {} vanished", cs.name));
        };
        c.creator = Some(creator.clone());
        c.legacy_creator_by_arn = cs.legacy_creator_match_by_arn;
        c.admission = cs.admission;
        if let Some(pv) = &cs.platform_version {
            c.platform_version = pv.clone();
        }
        if cs.authentication_mode != "CONFIG_MAP"
            && cs.bootstrap_cluster_creator_admin_permissions
            && (creator.arn.contains(":user/") || creator.arn.contains(":role/"))
        {
            add_creator_entry(sim, c, &creator.arn, &creator.principal_id, created_at);
        }
        for ng in &cs.nodegroups {
            c.nodegroups.insert(
                ng.name.clone(),
                Nodegroup {
                    name: ng.name.clone(),
                    arn: format!(
                        "arn:{}:eks:{}:{}:nodegroup/{}/{}/{}",
                        sim.partition,
                        scope.region,
                        scope.account,
                        cs.name,
                        ng.name,
                        random_hex(8)
                    ),
                    node_role: role_ref(sim, &built, &ng.node_role),
                    created_at: created_at + TimeDelta::minutes(15),
                },
            );
        }
        for fp in &cs.fargate_profiles {
            c.fargate.insert(
                fp.name.clone(),
                FargateProfile {
                    name: fp.name.clone(),
                    arn: format!(
                        "arn:{}:eks:{}:{}:fargateprofile/{}/{}/{}",
                        sim.partition,
                        scope.region,
                        scope.account,
                        cs.name,
                        fp.name,
                        random_hex(8)
                    ),
                    pod_execution_role_arn: role_ref(sim, &built, &fp.pod_execution_role),
                    namespaces: if fp.namespaces.is_empty() {
                        vec!["default".into()]
                    } else {
                        fp.namespaces.clone()
                    },
                    created_at: created_at + TimeDelta::minutes(20),
                },
            );
        }
        for e in &cs.access_entries {
            let (parn, pid) = principal_ref(&built, &e.principal).ok_or(format!(
                "cluster {}: access entry principal {} is not in iam",
                cs.name, e.principal
            ))?;
            let entry_type = e.entry_type.clone().unwrap_or_else(|| "STANDARD".into());
            let (username, groups) = match entry_type.as_str() {
                "STANDARD" => (
                    e.username.clone().unwrap_or_else(|| {
                        default_entry_username(&parn, &sim.partition, &scope.account)
                    }),
                    e.kubernetes_groups.clone(),
                ),
                "FARGATE_LINUX" => (
                    "system:node:{{SessionName}}".into(),
                    vec!["system:node-proxier".into(), "system:nodes".into()],
                ),
                _ => (
                    "system:node:{{EC2PrivateDNSName}}".into(),
                    vec!["system:nodes".into()],
                ),
            };
            let policies = e
                .policies
                .iter()
                .map(|p| AssociatedPolicy {
                    policy_arn: if p.policy.starts_with("arn:") {
                        p.policy.clone()
                    } else {
                        sim.policy_arn(&p.policy)
                    },
                    scope: AccessScope {
                        scope_type: p.scope.clone(),
                        namespaces: p.namespaces.clone(),
                    },
                    associated_at: created_at + TimeDelta::hours(1),
                    modified_at: created_at + TimeDelta::hours(1),
                })
                .collect();
            c.access_entries.insert(
                parn.clone(),
                AccessEntry {
                    principal_arn: parn.clone(),
                    principal_id: pid,
                    kubernetes_groups: groups,
                    username,
                    entry_type,
                    arn: format!(
                        "arn:{}:eks:{}:{}:access-entry/{}/{}/{}",
                        sim.partition,
                        scope.region,
                        scope.account,
                        cs.name,
                        scope.account,
                        random_hex(8)
                    ),
                    created_at: created_at + TimeDelta::hours(1),
                    modified_at: created_at + TimeDelta::hours(1),
                    policies,
                    propagates: false,
                },
            );
        }
        if let Some(data) = &cs.aws_auth {
            let rv = c.next_resource_version();
            set_aws_auth(c, data.clone(), rv);
        }
    }

    // The scenario's principals existed before its (backdated) clusters and their access
    // entries: IAM shows them a day older than the oldest cluster (see `Sim::principal_created`).
    let mut oldest = now;
    for cs in &sc.clusters {
        oldest = oldest.min(parse_time(&cs.created_at, now)?);
        if let Some(r) = &cs.reused_name {
            oldest = oldest.min(parse_time(&r.created_at, now)?);
        }
    }
    {
        let born = oldest - TimeDelta::days(1);
        let mut m = crate::state::lock(&sim.principal_created);
        for id in built
            .users
            .values()
            .map(|u| &u.user_id)
            .chain(built.roles.values().map(|r| &r.role_id))
        {
            m.insert(id.clone(), born);
        }
    }
    // Deletions and re-creations happen after the history that names the old principals.
    for spec in to_delete {
        if let Some(name) = spec
            .user
            .clone()
            .filter(|_| spec.kind.as_deref().unwrap_or("user") == "user")
        {
            let Some(u) = built.users.get(&name).cloned() else {
                continue;
            };
            if u.deleted {
                continue;
            }
            delete_user(sim, &name, &u).await?;
            let mut nu = u.clone();
            nu.deleted = true;
            nu.keys.clear();
            if spec.recreated {
                let keys = sc
                    .iam
                    .users
                    .iter()
                    .find(|x| x.name == name)
                    .map(|x| x.access_keys)
                    .unwrap_or(1);
                let fresh = create_user(sim, &name, &u.path, keys).await?;
                nu = UserOut {
                    original_user_id: u.original_user_id.clone(),
                    ..fresh
                };
            }
            built.users.insert(name, nu);
        } else if let Some(name) = spec.role.clone() {
            let Some(r) = built.roles.get(&name).cloned() else {
                continue;
            };
            if r.deleted {
                continue;
            }
            sim.moto
                .query(
                    "iam",
                    &[
                        ("Action", "DeleteRole"),
                        ("Version", "2010-05-08"),
                        ("RoleName", &name),
                    ],
                )
                .await?;
            let mut nr = r.clone();
            nr.deleted = true;
            nr.sessions.clear();
            if spec.recreated {
                let rs = sc.iam.roles.iter().find(|x| x.name == name);
                let trust = rs.and_then(|x| x.trust_policy.clone()).unwrap_or_else(|| {
                    rs.map(|x| trust_doc(sim, &x.trust.aws, &x.trust.service))
                        .unwrap_or_else(|| trust_doc(sim, &[], &[]))
                });
                let fresh = create_role(sim, &name, &r.path, &trust).await?;
                nr = RoleOut {
                    original_role_id: r.original_role_id.clone(),
                    ..fresh
                };
            }
            built.roles.insert(name, nr);
        }
    }
    for r in &sc.iam.roles {
        let Some(out) = built.roles.get(&r.name).cloned() else {
            continue;
        };
        if out.deleted {
            continue;
        }
        let mut out = out;
        for s in &r.sessions {
            out.sessions
                .insert(s.clone(), assume(sim, &out.arn, s).await?);
        }
        built.roles.insert(r.name.clone(), out);
    }

    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "principals and clusters built"
    );
    if let Some(noise) = &sc.cloudtrail.noise {
        events.extend(noise_events(
            sim,
            sc,
            &built,
            noise.events_per_day,
            noise.days,
            noise.seed,
            now,
        ));
    }
    if let Some(trail) = &sc.cloudtrail.trail {
        write_trail(sim, trail, &events).await?;
        lock(&sim.trails).push(trail.clone());
    }
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        events = events.len(),
        "history generated"
    );
    built.events = events.len();
    write(&sim.trail).extend(events);
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "history sorted and indexed"
    );
    lock(&sim.world).deny = sc.deny.clone();
    built.load_ms = started.elapsed().as_millis();
    Ok(built)
}

/// What the noise events' records are rendered from (on demand, when LookupEvents returns them).
struct NoiseCtx {
    region: String,
    account: String,
    partition: String,
}

/// The kinds of background events: (source, name, read-only, weight per mille).
const NOISE_KINDS: &[(&str, &str, bool, u32)] = &[
    ("eks.amazonaws.com", "DescribeCluster", true, 300),
    ("eks.amazonaws.com", "ListClusters", true, 100),
    ("sts.amazonaws.com", "AssumeRole", true, 150),
    ("ec2.amazonaws.com", "DescribeInstances", true, 150),
    ("s3.amazonaws.com", "ListBuckets", true, 80),
    ("iam.amazonaws.com", "GetUser", true, 70),
    ("ec2.amazonaws.com", "RunInstances", false, 50),
    ("signin.amazonaws.com", "ConsoleLogin", false, 30),
    ("ecs.amazonaws.com", "CreateCluster", false, 20),
    ("redshift.amazonaws.com", "CreateCluster", false, 20),
    ("eks.amazonaws.com", "CreateCluster", false, 15),
    ("eks.amazonaws.com", "ListNodegroups", true, 15),
];

/// (request, response, error) of a noise event of `kind` about cluster `name`.
fn noise_payload(
    kind: usize,
    name: &str,
    resource: &str,
    ctx: &NoiseCtx,
) -> (Value, Value, Option<(&'static str, &'static str)>) {
    let (src, ev, _, _) = NOISE_KINDS[kind];
    match (src, ev) {
        ("eks.amazonaws.com", "DescribeCluster" | "ListNodegroups") => {
            (json!({"name": name}), Value::Null, None)
        }
        ("sts.amazonaws.com", _) => (json!({"roleSessionName": "ci-pipeline"}), Value::Null, None),
        ("ec2.amazonaws.com", "RunInstances") => (
            json!({"instanceType": "m5.large"}),
            json!({"instancesSet": {"items": [{"instanceId": resource}]}}),
            None,
        ),
        ("signin.amazonaws.com", _) => (Value::Null, json!({"ConsoleLogin": "Success"}), None),
        ("ecs.amazonaws.com", _) => (
            json!({"clusterName": name}),
            json!({"cluster": {"clusterName": name, "clusterArn": format!("arn:{}:ecs:{}:{}:cluster/{name}", ctx.partition, ctx.region, ctx.account), "status": "ACTIVE"}}),
            None,
        ),
        ("redshift.amazonaws.com", _) => (
            json!({"clusterIdentifier": name, "nodeType": "ra3.xlplus"}),
            json!({"clusterIdentifier": name, "clusterStatus": "creating"}),
            None,
        ),
        ("eks.amazonaws.com", "CreateCluster") => (
            json!({"name": name, "version": "1.31"}),
            Value::Null,
            Some(("ResourceInUseException", "Cluster already exists with name")),
        ),
        _ => (json!({}), Value::Null, None),
    }
}

/// Background history: reads and writes of many services, same-named CreateCluster calls of
/// ECS and Redshift, failed EKS CreateCluster calls. Records are rendered lazily.
#[allow(clippy::too_many_arguments)]
pub fn noise_events(
    sim: &SharedSim,
    sc: &Scenario,
    built: &Built,
    per_day: u64,
    days: u32,
    seed: u64,
    now: DateTime<Utc>,
) -> Vec<TrailEvent> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut actors: Vec<Actor> = built
        .users
        .values()
        .map(|u| user_actor(&u.arn, &u.original_user_id, &sim.account, &fake_key("AKIA")))
        .collect();
    for i in 0..8 {
        actors.push(user_actor(
            &format!("arn:{}:iam::{}:user/dev-{i}", sim.partition, sim.account),
            &format!("AIDA{}", random_hex(16).to_uppercase()),
            &sim.account,
            &fake_key("AKIA"),
        ));
    }
    for r in built.roles.values() {
        actors.push(role_actor(
            &r.arn,
            &r.original_role_id,
            &sim.account,
            &sim.partition,
            "ci-pipeline",
            &fake_key("ASIA"),
            now,
        ));
    }
    let actors: Vec<Arc<Actor>> = actors
        .into_iter()
        .map(|mut a| {
            a.user_agent = "aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22 md/GOOS#linux".into();
            a.source_ip = "198.51.100.7".into();
            Arc::new(a)
        })
        .collect();
    let ctx = Arc::new(NoiseCtx {
        region: sim.region.clone(),
        account: sim.account.clone(),
        partition: sim.partition.clone(),
    });
    let names: Vec<Arc<str>> = if sc.clusters.is_empty() {
        vec![Arc::from("prod")]
    } else {
        sc.clusters
            .iter()
            .map(|c| Arc::from(c.name.as_str()))
            .collect()
    };
    let mut cumulative = Vec::new();
    let mut acc = 0;
    for (_, _, _, w) in NOISE_KINDS {
        acc += w;
        cumulative.push(acc);
    }
    let total = per_day * u64::from(days);
    let span_ms = i64::from(days) * 86_400_000;
    let now_ms = now.timestamp_millis();
    let mut out = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let time_ms = now_ms - rng.random_range(60_000..span_ms.max(60_001));
        let actor = actors[rng.random_range(0..actors.len())].clone();
        let name = names[rng.random_range(0..names.len())].clone();
        let roll = rng.random_range(0..acc);
        let kind = cumulative.iter().position(|c| roll < *c).unwrap_or(0);
        let (src, ev, read_only, _) = NOISE_KINDS[kind];
        let resources: Vec<(String, String)> = match (src, ev) {
            ("eks.amazonaws.com", "DescribeCluster" | "ListNodegroups") => {
                vec![("AWS::EKS::Cluster".into(), name.to_string())]
            }
            ("ec2.amazonaws.com", "RunInstances") => {
                vec![("AWS::EC2::Instance".into(), format!("i-{}", random_hex(17)))]
            }
            ("ecs.amazonaws.com", _) => vec![("AWS::ECS::Cluster".into(), name.to_string())],
            ("redshift.amazonaws.com", _) => {
                vec![("AWS::Redshift::Cluster".into(), name.to_string())]
            }
            _ => Vec::new(),
        };
        let ctx = ctx.clone();
        let username = actor.username.clone();
        let access_key_id = actor.access_key_id.clone();
        let render = move |e: &TrailEvent| {
            let resource = e
                .resources
                .first()
                .map(|r| r.1.as_str())
                .unwrap_or_default();
            let (request, response, error) = noise_payload(kind, &name, resource, &ctx);
            let time = DateTime::<Utc>::from_timestamp_millis(e.time_ms).unwrap_or_default();
            build_record(
                &actor,
                &ctx.region,
                &ctx.account,
                time,
                src,
                ev,
                read_only,
                request,
                response,
                &e.event_id,
                error,
            )
        };
        out.push(TrailEvent {
            event_id: uuid(),
            time_ms,
            event_name: ev.to_string(),
            event_source: src.to_string(),
            read_only,
            username,
            access_key_id,
            resources,
            record: Record::Lazy(Arc::new(render)),
        });
    }
    out
}

/// Writes the CreateCluster events (all ages) to the trail bucket as CloudTrail would.
async fn write_trail(
    sim: &SharedSim,
    trail: &crate::state::TrailConfig,
    events: &[TrailEvent],
) -> Result<(), String> {
    sim.moto
        .s3_create_bucket(&trail.bucket, &sim.region)
        .await?;
    for ev in events
        .iter()
        .filter(|e| e.event_name == "CreateCluster" && e.event_source == "eks.amazonaws.com")
    {
        let t = DateTime::<Utc>::from_timestamp_millis(ev.time_ms + 5 * 60_000)
            .unwrap_or_else(Utc::now);
        let prefix = if trail.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", trail.prefix.trim_matches('/'))
        };
        // A trail files each event under the account and Region the event happened in (a
        // multi-Region trail holds several Regions' folders).
        let record = ev.record_value();
        let acct = record["recipientAccountId"]
            .as_str()
            .unwrap_or(&sim.account)
            .to_string();
        let region = record["awsRegion"]
            .as_str()
            .unwrap_or(&sim.region)
            .to_string();
        let key = format!(
            "{prefix}AWSLogs/{acct}/CloudTrail/{region}/{}/{acct}_CloudTrail_{region}_{}_{}.json.gz",
            t.format("%Y/%m/%d"),
            t.format("%Y%m%dT%H%MZ"),
            random_hex(16),
        );
        let body = json!({"Records": [record.as_ref()]}).to_string();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body.as_bytes()).map_err(|e| e.to_string())?;
        let bytes = gz.finish().map_err(|e| e.to_string())?;
        sim.moto
            .s3_put(&format!("{}/{key}", trail.bucket), bytes)
            .await?;
    }
    Ok(())
}
