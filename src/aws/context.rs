//! The AWS context of one invocation: profile, region, credentials and the HTTP client.
//!
//! Everything goes through aws-config's standard chains (environment, profile files, SSO,
//! credential_process, web identity, container and instance roles), and endpoints only through
//! the SDK's own resolution — `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` — so that the
//! same binary works against AWS and against a local world without any special path.

use super::calls::CallLog;
use super::{AwsError, AwsErrorKind, partition};
use aws_config::BehaviorVersion;
use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_http_client::{Builder as HttpBuilder, tls};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_types::region::Region;
use std::sync::{Arc, OnceLock};

/// Where the caller wants to work: profile and region from the command line.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Where the calls of this run are recorded.
    pub calls: CallLog,
    /// `--dry-run`: adapters that would keep something on disk (the CloudTrail answer cache)
    /// only read.
    pub dry_run: bool,
}

/// A loaded AWS configuration and the region it resolved to.
#[derive(Clone, Debug)]
pub struct AwsContext {
    pub config: SdkConfig,
    pub region: String,
    pub profile: Option<String>,
    /// Every AWS call made through this context (and those derived from it).
    pub calls: CallLog,
    /// `--dry-run` (see [`AwsOptions::dry_run`]).
    pub dry_run: bool,
}

/// Resolves the region without any network call: `--region`, then AWS_REGION /
/// AWS_DEFAULT_REGION, then the profile's `region`. (The SDK's default chain would also ask
/// the instance metadata service, which costs a timeout off EC2.)
pub async fn resolve_region(opts: &AwsOptions) -> Result<String, AwsError> {
    if let Some(r) = &opts.region {
        return check_region(r);
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Ok(r) = std::env::var(var)
            && !r.trim().is_empty()
        {
            return check_region(r.trim());
        }
    }
    let mut profile_provider = aws_config::profile::region::ProfileFileRegionProvider::builder();
    if let Some(p) = &opts.profile {
        profile_provider = profile_provider.profile_name(p);
    }
    use aws_config::meta::region::ProvideRegion;
    if let Some(r) = profile_provider.build().region().await {
        return check_region(r.as_ref());
    }
    Err(AwsError::new("configuration", AwsErrorKind::InvalidInput, "no AWS region is set").with_hint(
        "pass --region REGION (the cluster's region), or set AWS_REGION, or `region` in the profile",
    ))
}

/// The profiles of ~/.aws/config and ~/.aws/credentials (or AWS_CONFIG_FILE /
/// AWS_SHARED_CREDENTIALS_FILE); missing files are an empty set.
async fn load_profiles() -> Result<aws_config::profile::ProfileSet, AwsError> {
    use aws_types::os_shim_internal::{Env, Fs};
    aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None)
        .await
        .map_err(|e| {
            AwsError::new(
                "configuration",
                AwsErrorKind::InvalidInput,
                format!("cannot read the AWS profile files: {}", error_text(&e)),
            )
            .with_hint(
                "fix the file, or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE elsewhere",
            )
        })
}

/// The credentials of an SSO profile, with "no login" said plainly: the provider's own error
/// names a cache file and nests provider structs.
#[derive(Debug)]
struct SsoExplained {
    inner: aws_credential_types::provider::SharedCredentialsProvider,
    profile: String,
}

impl ProvideCredentials for SsoExplained {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            self.inner.provide_credentials().await.map_err(|e| {
                let text = error_text(&e).to_ascii_lowercase();
                if text.contains("sso") && (text.contains("token") || text.contains("cache")) {
                    aws_credential_types::provider::error::CredentialsError::not_loaded(
                        sso_login_needed(&self.profile),
                    )
                } else {
                    e
                }
            })
        })
    }
}

/// The start of [`sso_login_needed`]'s message, by which errors that carry it are recognised.
pub const SSO_LOGIN: &str = "run `aws sso login --profile ";

/// The message of an SSO profile without a (valid) login.
pub fn sso_login_needed(profile: &str) -> String {
    format!("{SSO_LOGIN}{profile}` (the profile's AWS SSO login is missing or expired)")
}

/// "No SSO login", from the text of an error that carries [`sso_login_needed`]'s message.
pub fn sso_error(detail: &str) -> AwsError {
    let profile = detail
        .split_once(SSO_LOGIN)
        .and_then(|(_, rest)| rest.split('`').next())
        .unwrap_or("NAME")
        .to_string();
    AwsError::new(
        "credentials",
        AwsErrorKind::NoCredentials,
        format!("profile '{profile}' has no AWS SSO login (or it expired)"),
    )
    .with_hint(format!(
        "run `aws sso login --profile {profile}`, then re-run this command"
    ))
}

/// Refuses a `--profile` that no profile file defines (the AWS CLI's "The config profile (X)
/// could not be found"), naming the files read and the profiles they do define.
/// The profile named by a non-empty AWS_PROFILE (the SDK's and the AWS CLI's default profile).
pub fn env_profile() -> Option<String> {
    std::env::var("AWS_PROFILE")
        .ok()
        .filter(|p| !p.trim().is_empty())
}

/// `source` says where the name came from (`--profile`, `AWS_PROFILE`).
fn check_profile_exists(
    set: &aws_config::profile::ProfileSet,
    name: &str,
    source: &str,
) -> Result<(), AwsError> {
    use aws_types::os_shim_internal::Env;
    let env = Env::real();
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = set.profiles().collect();
    known.sort_unstable();
    let files = format!(
        "{} and {}",
        env.get("AWS_CONFIG_FILE")
            .unwrap_or_else(|_| "~/.aws/config".into()),
        env.get("AWS_SHARED_CREDENTIALS_FILE")
            .unwrap_or_else(|_| "~/.aws/credentials".into())
    );
    let unset = if source == "AWS_PROFILE" {
        "; or `unset AWS_PROFILE` to use the default credentials"
    } else {
        ""
    };
    let hint = if known.is_empty() {
        format!(
            "no profile is defined in {files}; create it with `aws configure --profile {name}` (or `aws configure sso --profile {name}`){unset}"
        )
    } else {
        format!(
            "profiles defined in {files}: {}; or create it with `aws configure --profile {name}`{unset}",
            known.join(", ")
        )
    };
    Err(AwsError::new(
        "configuration",
        AwsErrorKind::InvalidInput,
        format!("the AWS profile '{name}' could not be found (named by {source})"),
    )
    .with_hint(hint))
}

fn check_region(r: &str) -> Result<String, AwsError> {
    partition::validate_region(r).map_err(|e| {
        let hint = match e.suggestion {
            Some(s) => format!("did you mean --region {s}?"),
            None => "a region looks like us-east-1 or eu-west-2".to_string(),
        };
        AwsError::new("configuration", AwsErrorKind::InvalidInput, e.to_string()).with_hint(hint)
    })?;
    if !partition::is_known_region(r) {
        let near = partition::closest_known(r)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        tracing::warn!("region '{r}' is not one this build knows{near}");
    }
    Ok(r.to_string())
}

/// The HTTPS client every SDK client uses: rustls with the ring provider, one stack — built on
/// first use. Building it loads the system's root certificates (a few hundred files), which
/// would be most of `token`'s run time; `token` usually needs no HTTP at all.
pub fn http_client() -> SharedHttpClient {
    SharedHttpClient::new(LazyHttpClient::default())
}

#[derive(Debug, Clone, Default)]
struct LazyHttpClient {
    inner: Arc<OnceLock<SharedHttpClient>>,
}

impl HttpClient for LazyHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.inner
            .get_or_init(|| {
                HttpBuilder::new()
                    .tls_provider(tls::Provider::Rustls(
                        tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https()
            })
            .http_connector(settings, components)
    }
}

impl AwsContext {
    /// Loads the configuration. No network call is made here; credentials are resolved lazily.
    pub async fn load(opts: &AwsOptions) -> Result<AwsContext, AwsError> {
        let profiles = load_profiles().await?;
        if let Some(p) = &opts.profile {
            check_profile_exists(&profiles, p, "--profile")?;
        } else if let Some(p) = env_profile() {
            // The AWS CLI refuses an unknown AWS_PROFILE as it refuses an unknown --profile
            // ("The config profile (X) could not be found"); the SDK would instead fail later,
            // in the middle of resolving credentials, as if the network were down.
            check_profile_exists(&profiles, &p, "AWS_PROFILE")?;
        }
        let region = resolve_region(opts).await?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .region(Region::new(region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(5));
        if let Some(p) = &opts.profile {
            // An explicit --profile is what the operator asked for: it must exist, and its
            // credentials win over exported AWS_ACCESS_KEY_ID/SECRET (as in the AWS CLI, whose
            // credential resolver drops the environment provider when a profile is named).
            // Without this, the SDK's default chain reads the environment first and the run
            // acts as whoever exported keys in this shell.
            let provider_config = aws_config::provider_config::ProviderConfig::without_region()
                .with_region(Some(Region::new(region.clone())))
                .with_http_client(http_client());
            let creds = aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&provider_config)
                .profile_name(p)
                .build();
            loader = loader.profile_name(p).credentials_provider(creds);
        }
        let mut config = loader.load().await;
        // An SSO profile without a login fails deep inside the provider chain with a cache
        // file path and provider structs; say what to run instead.
        let selected = opts
            .profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
            .unwrap_or_else(|| "default".to_string());
        if let Some(profile) = profiles.get_profile(&selected)
            && (profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some())
            && let Some(inner) = config.credentials_provider()
        {
            config = config
                .to_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(SsoExplained {
                        inner,
                        profile: selected,
                    }),
                )
                .build();
        }
        Ok(AwsContext {
            config,
            region,
            profile: opts.profile.clone(),
            calls: opts.calls.clone(),
            dry_run: opts.dry_run,
        })
    }

    /// The same context with other credentials (an assumed role, a temporary key).
    pub fn with_credentials(&self, creds: Credentials) -> AwsContext {
        let config = self
            .config
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(creds),
            )
            .build();
        AwsContext {
            config,
            region: self.region.clone(),
            profile: self.profile.clone(),
            calls: self.calls.clone(),
            dry_run: self.dry_run,
        }
    }

    /// The same context in another region (fleet audit).
    pub fn in_region(&self, region: &str) -> AwsContext {
        let config = self
            .config
            .to_builder()
            .region(Region::new(region.to_string()))
            .build();
        AwsContext {
            config,
            region: region.to_string(),
            profile: self.profile.clone(),
            calls: self.calls.clone(),
            dry_run: self.dry_run,
        }
    }

    /// Resolves the current credentials (may refresh SSO or assume-role profiles).
    pub async fn credentials(&self) -> Result<Credentials, AwsError> {
        let provider = self
            .config
            .credentials_provider()
            .ok_or_else(no_credentials)?;
        provider.provide_credentials().await.map_err(|e| {
            use aws_credential_types::provider::error::CredentialsError as CE;
            let detail = error_text(&e);
            match e {
                CE::CredentialsNotLoaded(_) if detail.contains(SSO_LOGIN) => sso_error(&detail),
                CE::CredentialsNotLoaded(_) => no_credentials(),
                _ => AwsError::new("credentials", AwsErrorKind::NoCredentials, format!("could not load credentials: {detail}"))
                    .with_hint(
                        "check the profile (`--profile`, AWS_PROFILE) and refresh it (`aws sso login --profile NAME`), \
                         or export AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
                    ),
            }
        })
    }

    pub fn partition(&self) -> &'static str {
        partition::partition_id(&self.region)
    }

    pub fn eks(&self) -> aws_sdk_eks::Client {
        let conf = aws_sdk_eks::config::Builder::from(&self.config)
            .interceptor(self.calls.interceptor())
            .build();
        aws_sdk_eks::Client::from_conf(conf)
    }
    pub fn sts(&self) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .interceptor(self.calls.interceptor())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.config)
            .interceptor(self.calls.interceptor())
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }
    pub fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        let conf = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .interceptor(self.calls.interceptor())
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    }
    /// S3 with path-style addressing (trail buckets are read by name; works with any endpoint).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .force_path_style(true)
            .interceptor(self.calls.interceptor())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.config)
            .interceptor(self.calls.interceptor())
            .build();
        aws_sdk_organizations::Client::from_conf(conf)
    }
}

fn no_credentials() -> AwsError {
    AwsError::new("credentials", AwsErrorKind::NoCredentials, "no AWS credentials found").with_hint(
        "set credentials for the cluster's account: `aws sso login --profile NAME` then --profile NAME, \
         or export AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)",
    )
}

fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
