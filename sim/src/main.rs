//! eks-sim: a local EKS world for tests and drills (EKS API, CloudTrail, per-cluster
//! Kubernetes API servers and EKS authentication) on top of moto.

mod admin;
mod awsauth;
mod build;
mod cloudtrail;
mod cloudtrail_api;
mod eks;
mod events;
mod http;
mod iamrules;
mod identity;
mod k8s;
mod moto;
mod scenario;
mod state;
mod token;
mod yaml11;

use std::path::PathBuf;
use std::sync::atomic::AtomicU16;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use clap::Parser;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::cloudtrail::{EventStore, Throttle};
use crate::http::Req;
use crate::state::{Sim, World, lock, set_port};

#[derive(Parser, Debug)]
#[command(
    name = "eks-sim",
    version,
    about = "A local EKS world over moto: EKS API, CloudTrail, Kubernetes API servers, EKS authentication"
)]
struct Cli {
    /// Scenario file (YAML); see sim/README.md.
    #[arg(long)]
    scenario: PathBuf,
    /// moto server URL, e.g. http://127.0.0.1:5000
    #[arg(long)]
    moto: String,
    /// Port of the EKS + CloudTrail + admin endpoint (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Write ports, endpoints, credentials and ids as JSON here once the world is ready.
    #[arg(long)]
    state: Option<PathBuf>,
    /// How long moto's state may be cached for authentication, in milliseconds
    /// (unknown access keys always force a reload).
    #[arg(long, default_value_t = 500)]
    moto_cache_ms: u64,
    /// Set every IAM/EKS propagation delay to this many seconds (overrides the scenario's
    /// `propagation`; tests shorten the drill defaults with it).
    #[arg(long, value_name = "SECONDS")]
    propagation_seconds: Option<f64>,
    /// How long UpdateClusterConfig updates stay InProgress (overrides the scenario's
    /// `updateDelaySeconds`; drills use a realistic value).
    #[arg(long, value_name = "SECONDS")]
    update_delay_seconds: Option<f64>,
}

fn make_tls() -> Result<(String, rustls::ServerConfig), String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        SanType,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "eks-sim kubernetes CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(|e| e.to_string())?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(|e| e.to_string())?;
    let issuer = Issuer::new(ca_params, ca_key);
    let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "kubernetes".to_string()])
        .map_err(|e| e.to_string())?;
    leaf.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::V4(
            std::net::Ipv4Addr::LOCALHOST,
        )));
    leaf.distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let leaf_key = KeyPair::generate().map_err(|e| e.to_string())?;
    let leaf_cert = leaf
        .signed_by(&leaf_key, &issuer)
        .map_err(|e| e.to_string())?;
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone(), ca_cert.der().clone()],
            key_der,
        )
        .map_err(|e| e.to_string())?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((ca_cert.pem(), cfg))
}

async fn route(sim: state::SharedSim, req: Req) -> http::Resp {
    if req.path.starts_with("/_sim/") {
        admin::handle(sim, req).await
    } else if cloudtrail_api::is_cloudtrail(&req) {
        cloudtrail_api::handle(sim, req).await
    } else if req.path == "/" {
        proxy(sim, req).await
    } else {
        eks::handle(sim, req).await
    }
}

/// IAM and STS (query API on `/`) pass through to moto after the checks moto does not make
/// (`iamrules`); the sim learns new keys' secrets and when IAM objects changed.
async fn proxy(sim: state::SharedSim, req: Req) -> http::Resp {
    let mut params = req.query.clone();
    params.extend(
        url::form_urlencoded::parse(&req.body).map(|(k, v)| (k.into_owned(), v.into_owned())),
    );
    let (service, action) = moto::query_action(&params, req.header("authorization"));
    if let Err((status, code, message)) = gate(&sim, &service, &action, &params, &req).await {
        sim.record_call(&service, &action, None, status, None);
        return http::response(
            status,
            "text/xml",
            bytes::Bytes::from(iamrules::error_xml(&service, code, &message)),
        );
    }
    let param = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let previous_trust = if action == "UpdateAssumeRolePolicy" {
        role_trust(&sim, &param("RoleName"), None)
            .await
            .ok()
            .map(|(policy, _)| policy)
    } else {
        None
    };
    match sim.moto.forward(&req).await {
        Ok((status, headers, body)) => {
            if (200..300).contains(&status) {
                let xml = String::from_utf8_lossy(&body);
                match action.as_str() {
                    "CreateAccessKey" => {
                        if let Some(id) = moto::xml_tag(&xml, "AccessKeyId") {
                            sim.iam.key_created(&id);
                        }
                    }
                    "CreateUser" => sim.iam.principal_created(&param("UserName")),
                    "CreateRole" => {
                        sim.iam.principal_created(&param("RoleName"));
                        iamrules::bind_trust(
                            &sim.moto,
                            &sim.iam,
                            &param("RoleName"),
                            &param("AssumeRolePolicyDocument"),
                        )
                        .await;
                    }
                    "UpdateAssumeRolePolicy" => {
                        if let Some(p) = previous_trust {
                            sim.iam.trust_changed(&param("RoleName"), p);
                        }
                        iamrules::bind_trust(
                            &sim.moto,
                            &sim.iam,
                            &param("RoleName"),
                            &param("PolicyDocument"),
                        )
                        .await;
                    }
                    _ => {}
                }
            }
            let body = if action == "GetRole" && (200..300).contains(&status) {
                trust_with_ids(&sim, &param("RoleName"), body).await
            } else {
                body
            };
            let body = if matches!(action.as_str(), "GetUser" | "GetRole")
                && (200..300).contains(&status)
            {
                backdated(&sim, body)
            } else {
                body
            };
            sim.record_call(&service, &action, None, status, None);
            let mut r = http::response(status, "text/xml", body);
            for (k, v) in &headers {
                if k != hyper::header::CONTENT_LENGTH
                    && k != hyper::header::TRANSFER_ENCODING
                    && k != hyper::header::CONNECTION
                {
                    r.headers_mut().insert(k.clone(), v.clone());
                }
            }
            r
        }
        Err(e) => {
            sim.record_call(&service, &action, None, 502, None);
            http::response(502, "text/plain", e)
        }
    }
}

/// GetRole as IAM answers it: a trust principal that no longer is the principal the policy was
/// written for (deleted, or recreated with a new unique id) shows as the unique id IAM stored
/// ("the role trust policy … shows the principal's unique ID instead of the ARN": IAM User
/// Guide, role trust policy examples).
/// A GetUser/GetRole answer with the CreateDate the scenario gives its principal (see
/// `Sim::principal_created`), when the answer is about one the scenario built.
fn backdated(sim: &state::SharedSim, body: bytes::Bytes) -> bytes::Bytes {
    let xml = String::from_utf8_lossy(&body).into_owned();
    let id = moto::xml_tag(&xml, "UserId").or_else(|| moto::xml_tag(&xml, "RoleId"));
    let Some(when) = id.and_then(|id| state::lock(&sim.principal_created).get(&id).copied()) else {
        return body;
    };
    let (open, close) = ("<CreateDate>", "</CreateDate>");
    let Some(start) = xml.find(open).map(|i| i + open.len()) else {
        return body;
    };
    let Some(end) = xml[start..].find(close).map(|i| i + start) else {
        return body;
    };
    let mut out = xml[..start].to_string();
    out.push_str(&when.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    out.push_str(&xml[end..]);
    bytes::Bytes::from(out)
}

async fn trust_with_ids(sim: &state::SharedSim, role: &str, body: bytes::Bytes) -> bytes::Bytes {
    let bound = sim.iam.trust_bindings(role);
    if bound.is_empty() {
        return body;
    }
    let xml = String::from_utf8_lossy(&body).into_owned();
    let (open, close) = ("<AssumeRolePolicyDocument>", "</AssumeRolePolicyDocument>");
    let Some(start) = xml.find(open).map(|i| i + open.len()) else {
        return body;
    };
    let Some(end) = xml[start..].find(close).map(|i| i + start) else {
        return body;
    };
    let Some(raw) = moto::xml_tag(&xml, "AssumeRolePolicyDocument") else {
        return body;
    };
    let mut policy = percent_encoding::percent_decode_str(&raw)
        .decode_utf8_lossy()
        .into_owned();
    let mut changed = false;
    for arn in iamrules::principal_arns(&policy) {
        let Some(id) = bound.get(&arn.to_ascii_lowercase()) else {
            continue;
        };
        let now = sim.moto.principal(&arn).await.ok().flatten().map(|p| p.1);
        if now.as_deref() != Some(id.as_str()) {
            policy = policy.replace(&format!("\"{arn}\""), &format!("\"{id}\""));
            changed = true;
        }
    }
    if !changed {
        return body;
    }
    let encoded =
        percent_encoding::utf8_percent_encode(&policy, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    bytes::Bytes::from(format!("{}{encoded}{}", &xml[..start], &xml[end..]))
}

/// A role's trust policy (decoded) and MaxSessionDuration, from moto.
async fn role_trust(
    sim: &state::SharedSim,
    role_name: &str,
    account: Option<&str>,
) -> Result<(String, u64), String> {
    let xml = sim
        .moto
        .query_in(
            account,
            "iam",
            &[
                ("Action", "GetRole"),
                ("Version", "2010-05-08"),
                ("RoleName", role_name),
            ],
        )
        .await?;
    let raw = moto::xml_tag(&xml, "AssumeRolePolicyDocument").unwrap_or_default();
    let policy = percent_encoding::percent_decode_str(&raw)
        .decode_utf8_lossy()
        .into_owned();
    let max = moto::xml_tag(&xml, "MaxSessionDuration")
        .and_then(|m| m.parse().ok())
        .unwrap_or(3600);
    Ok((policy, max))
}

/// What AWS checks before the request reaches moto: the caller's key (expired, too new,
/// inactive or unknown), and for AssumeRole the trust policy and DurationSeconds.
async fn gate(
    sim: &state::SharedSim,
    service: &str,
    action: &str,
    params: &[(String, String)],
    req: &Req,
) -> Result<(), iamrules::Refusal> {
    let Some(akid) = req
        .header("authorization")
        .and_then(moto::header_access_key)
    else {
        return Ok(());
    };
    let key = match sim.moto.resolve_key(akid).await {
        Ok(k) => k,
        Err(e) if e.starts_with("cannot reach") || e.starts_with("moto") => return Ok(()),
        Err(_) => {
            return Err((
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.".into(),
            ));
        }
    };
    sim.check_key(&key)?;
    if key.federated && (service == "iam" || (service == "sts" && action != "GetCallerIdentity")) {
        // GetFederationToken credentials "cannot call IAM API operations" nor "AWS STS API
        // operations except GetCallerIdentity" (IAM User Guide, "Compare AWS STS credentials").
        return Err((
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: {service}:{action} (federation credentials)",
                key.identity.arn
            ),
        ));
    }
    if key.session_without_mfa && service == "iam" {
        // "You cannot call any IAM API operations unless MFA authentication information is
        // included in the request" (STS API reference, GetSessionToken). The text is ours.
        return Err((
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: iam:{action}: GetSessionToken credentials without MFA cannot call IAM",
                key.identity.arn
            ),
        ));
    }
    if service != "sts" || action != "AssumeRole" {
        return Ok(());
    }
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let role_arn = param("RoleArn").unwrap_or_default();
    let role_name = identity::principal_name(role_arn).unwrap_or_default();
    let role_account = identity::arn_parts(role_arn)
        .map(|p| p.3)
        .filter(|a| !a.is_empty());
    let refused = || {
        (
            403u16,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                key.identity.arn
            ),
        )
    };
    let (current, max) = role_trust(sim, role_name, role_account)
        .await
        .map_err(|_| refused())?;
    let policy = sim
        .iam
        .effective_trust(role_name, current)
        .map_err(|()| refused())?;
    // MFA: the device must be the caller's and the code six digits.
    let mfa = match (param("SerialNumber"), param("TokenCode")) {
        (Some(serial), Some(code)) => {
            let owner = key.user_name.clone().unwrap_or_default();
            let devices = sim
                .moto
                .query(
                    "iam",
                    &[
                        ("Action", "ListMFADevices"),
                        ("Version", "2010-05-08"),
                        ("UserName", &owner),
                    ],
                )
                .await
                .unwrap_or_default();
            let listed = !owner.is_empty()
                && devices.contains(&format!("<SerialNumber>{serial}</SerialNumber>"));
            if !listed || code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err((
                    403,
                    "AccessDenied",
                    "MultiFactorAuthentication failed with invalid MFA one time pass code. ".into(),
                ));
            }
            true
        }
        _ => false,
    };
    let r = iamrules::AssumeRequest {
        caller: &key.identity,
        caller_is_session: key.session_token.is_some(),
        role_arn,
        session_name: param("RoleSessionName").unwrap_or_default(),
        external_id: param("ExternalId"),
        mfa,
        duration_seconds: param("DurationSeconds").and_then(|d| d.parse().ok()),
        max_session_duration: max,
        trust_ids: sim.iam.trust_bindings(role_name),
    };
    iamrules::evaluate_trust(&policy, &r)?;
    iamrules::check_duration(&r)
}

fn state_doc(
    sim: &Sim,
    cli: &Cli,
    built: &build::Built,
    operator: Option<&(String, String, String, String)>,
) -> Value {
    let eks = format!(
        "http://127.0.0.1:{}",
        sim.eks_port.load(std::sync::atomic::Ordering::SeqCst)
    );
    let moto = sim.moto.base.clone();
    let mut env = serde_json::Map::new();
    env.insert("AWS_ENDPOINT_URL_EKS".into(), json!(eks));
    env.insert("AWS_ENDPOINT_URL_CLOUDTRAIL".into(), json!(eks));
    // IAM and STS go through the sim's pass-through proxy to moto (see moto.rs for why).
    env.insert("AWS_ENDPOINT_URL_IAM".into(), json!(eks));
    env.insert("AWS_ENDPOINT_URL_STS".into(), json!(eks));
    env.insert("AWS_ENDPOINT_URL_S3".into(), json!(moto));
    if !built.members.is_empty() {
        // Organizations (JSON on `/`) passes through to moto like IAM and STS.
        env.insert("AWS_ENDPOINT_URL_ORGANIZATIONS".into(), json!(eks));
    }
    env.insert("AWS_REGION".into(), json!(sim.region));
    env.insert("AWS_DEFAULT_REGION".into(), json!(sim.region));
    if let Some((_, _, k, s)) = operator {
        env.insert("AWS_ACCESS_KEY_ID".into(), json!(k));
        env.insert("AWS_SECRET_ACCESS_KEY".into(), json!(s));
    }
    let users: serde_json::Map<String, Value> = built
        .users
        .iter()
        .map(|(n, u)| {
            (
                n.clone(),
                json!({
                    "arn": u.arn, "userId": u.user_id, "originalUserId": u.original_user_id, "path": u.path, "deleted": u.deleted && u.keys.is_empty() && u.user_id == u.original_user_id,
                    "recreated": u.user_id != u.original_user_id,
                    "accessKeys": u.keys.iter().map(|(k, s)| json!({"accessKeyId": k, "secretAccessKey": s})).collect::<Vec<_>>(),
                }),
            )
        })
        .collect();
    let roles: serde_json::Map<String, Value> = built
        .roles
        .iter()
        .map(|(n, r)| {
            (
                n.clone(),
                json!({
                    "arn": r.arn, "roleId": r.role_id, "originalRoleId": r.original_role_id, "path": r.path,
                    "deleted": r.deleted && r.role_id == r.original_role_id, "recreated": r.role_id != r.original_role_id,
                    "sessions": r.sessions,
                }),
            )
        })
        .collect();
    let clusters = state::clusters_json(&lock(&sim.world));
    json!({
        "pid": std::process::id(),
        "scenario": cli.scenario.display().to_string(),
        "account": sim.account,
        "region": sim.region,
        "partition": sim.partition,
        "eksEndpoint": eks,
        "cloudtrailEndpoint": eks,
        "adminEndpoint": format!("{eks}/_sim"),
        "iamEndpoint": eks,
        "stsEndpoint": eks,
        "motoEndpoint": moto,
        "eksPort": sim.eks_port.load(std::sync::atomic::Ordering::SeqCst),
        "env": env,
        "operator": operator.map(|(n, a, k, s)| json!({"userName": n, "arn": a, "accessKeyId": k, "secretAccessKey": s})),
        "users": users,
        "roles": roles,
        "clusters": clusters,
        "organization": (!built.members.is_empty()).then(|| json!({
            "managementAccount": sim.account,
            "accounts": built.members.iter().map(|(n, (id, r))| (n.clone(), json!({"id": id, "roleArn": r.arn, "roleId": r.role_id}))).collect::<serde_json::Map<String, Value>>(),
        })),
        "caPem": sim.ca_pem,
        "cloudtrail": {"events": built.events, "loadMs": built.load_ms},
    })
}

async fn run(cli: Cli) -> Result<(), String> {
    let text = std::fs::read_to_string(&cli.scenario)
        .map_err(|e| format!("reading {}: {e}", cli.scenario.display()))?;
    let sc = scenario::Scenario::from_yaml(&text)?;
    let (ca_pem, tls) = make_tls()?;
    let throttle = match &sc.cloudtrail.throttle {
        Some(t) if t.off => Throttle::new(None, 0.0),
        Some(t) => Throttle::new(
            Some(t.rate.unwrap_or(2.0)),
            t.burst.unwrap_or(t.rate.unwrap_or(2.0)).max(1.0),
        ),
        None => Throttle::new(Some(2.0), 2.0),
    };
    let sim = Arc::new(Sim {
        account: sc.account.clone(),
        region: sc.region.clone(),
        partition: token::region_partition(&sc.region).to_string(),
        moto: moto::Moto::new(
            &cli.moto,
            &sc.region,
            Duration::from_millis(cli.moto_cache_ms),
        ),
        ca_pem,
        tls: Arc::new(tls),
        world: Mutex::new(World::default()),
        trail: RwLock::new(EventStore::default()),
        throttle: Mutex::new(throttle),
        cloudtrail_pages: Mutex::new((
            sc.cloudtrail.scan_per_page,
            (sc.cloudtrail
                .delivery_delay_seconds
                .unwrap_or(scenario::DEFAULT_DELIVERY_DELAY_SECONDS)
                .max(0.0)
                * 1000.0) as i64,
        )),
        calls: Mutex::new(Vec::new()),
        auth_log: Mutex::new(Vec::new()),
        update_delay: Mutex::new(Duration::from_secs_f64(
            cli.update_delay_seconds
                .unwrap_or(sc.update_delay_seconds)
                .max(0.0),
        )),
        update_failure: Mutex::new(sc.update_failure.clone()),
        iam: iamrules::IamRules::new(match cli.propagation_seconds {
            Some(s) => iamrules::Propagation::uniform(s),
            None => sc.propagation.unwrap_or_default(),
        }),
        clock_offset: Mutex::new(chrono::TimeDelta::zero()),
        trails: Mutex::new(Vec::new()),
        eks_port: AtomicU16::new(0),
        state_doc: Mutex::new(Value::Null),
        principal_created: Mutex::new(Default::default()),
    });
    let listener = TcpListener::bind(("127.0.0.1", cli.port))
        .await
        .map_err(|e| format!("binding 127.0.0.1:{}: {e}", cli.port))?;
    set_port(
        &sim.eks_port,
        listener.local_addr().map_err(|e| e.to_string())?.port(),
    );
    let s2 = sim.clone();
    tokio::spawn(http::serve(listener, None, move |req| {
        route(s2.clone(), req)
    }));

    // The moto account must be the scenario's (moto creates principals in its default account).
    let built = build::build(&sim, &sc).await?;
    let operator = match &sc.operator {
        Some(name) => {
            let u = built
                .users
                .get(name)
                .ok_or(format!("operator {name} not built"))?;
            let (k, s) = u.keys.first().cloned().ok_or(format!(
                "operator {name} has no access key (accessKeys: 0?)"
            ))?;
            Some((name.clone(), u.arn.clone(), k, s))
        }
        None => None,
    };
    let doc = state_doc(&sim, &cli, &built, operator.as_ref());
    *lock(&sim.state_doc) = doc.clone();
    if let Some(path) = &cli.state {
        let tmp = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    tracing::info!(
        events = built.events,
        load_ms = built.load_ms as u64,
        "world built"
    );
    if let Some(env) = doc["env"].as_object() {
        let mut out = String::new();
        for (k, v) in env {
            out.push_str(&format!("export {k}={}\n", v.as_str().unwrap_or_default()));
        }
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }
    wait_for_signal().await;
    let world = lock(&sim.world);
    for c in world.clusters.values() {
        if let Some(h) = &c.server {
            h.abort();
        }
    }
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EKS_SIM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("eks-sim: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eks-sim: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
