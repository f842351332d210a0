//! `Config`: everything the server reads from the environment, read once at start-up.
use domain::keys::token::TokenEnvironment;
use domain::mail::Mailer;
use domain::net::{ForwardedHeader, TrustedProxies};
use domain::secret_box::SecretKey;
use leptos::config::{get_configuration, LeptosOptions};

/// The server's settings. Tests build one in code with [`Config::for_tests`].
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://path?mode=rwc` or `postgres://user:pass@host/db`.
    /// Default: the SQLite file `data/caregate.db`, created on first run.
    pub database_url: String,
    /// `CAREGATE_PUBLIC_URL`: the URL people and MCP clients use to reach this server (shown in setup
    /// snippets; https turns on `Secure` cookies). Default: `http://` + the site address.
    pub public_url: String,
    /// Leptos' own settings (`LEPTOS_SITE_ADDR`, `LEPTOS_SITE_ROOT`, …), as set by cargo-leptos.
    pub leptos: LeptosOptions,
    /// `CAREGATE_ENV`: `live` for production deployments (keys start `cg_live_`), anything else or unset for
    /// `test` (keys start `cg_test_`). A token of the other kind is refused as malformed.
    pub token_environment: TokenEnvironment,
    /// `CAREGATE_WARM_PATH`: `off` checks argon2id on every API request (a baseline for benchmarks);
    /// anything else or unset keeps the warm path on.
    pub warm_path: bool,
    /// `CAREGATE_DISCLOSURES`: `off` stops recording which patients MCP tool calls returned — only for the
    /// benchmark's comparison; anything else or unset records them.
    pub disclosures: bool,
    /// `CAREGATE_OAUTH_LOOPBACK_CLIENTS=1`, for tests only: OAuth client metadata documents may be served over
    /// http from loopback. Never set it in production (it lets a client_id name this machine).
    pub oauth_loopback_clients: bool,
    /// `CAREGATE_OAUTH_TEST_CA`, for tests only and only with `CAREGATE_OAUTH_LOOPBACK_CLIENTS=1`: a PEM file of
    /// a test certificate authority whose certificates the loopback client documents are served with.
    pub oauth_test_authority: Option<Vec<u8>>,
    /// `CAREGATE_TRUSTED_PROXIES`: comma-separated addresses or CIDR blocks of the reverse proxies in front of
    /// this server. Only a request whose TCP peer is one of them has its client address taken from the header
    /// named by `CAREGATE_FORWARDED_HEADER` (`x-forwarded-for`, the default, or `forwarded`); the other header
    /// is never read. Default: no proxies (the peer is the client).
    pub trusted_proxies: TrustedProxies,
    /// `CAREGATE_METRICS_ADDR`: the address (e.g. `127.0.0.1:9100`) where `/metrics` is served, apart from the
    /// public listener. Default: not served at all.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `CAREGATE_SECRET_KEY`: 64 hex digits (32 random bytes, e.g. `openssl rand -hex 32`) that encrypt
    /// two-factor seeds at rest. Every server process of a deployment needs the same key. Unset with the
    /// embedded SQLite database, a key is generated on first run into `secret.key` beside the database file
    /// (readable by its owner only); unset with PostgreSQL, the server refuses to start.
    pub secret_key: std::sync::Arc<SecretKey>,
    /// `CAREGATE_SMTP_URL` (`smtp://host:port`, `smtp://host:587?tls=required`, `smtps://user:pass@host:465`)
    /// and `CAREGATE_MAIL_FROM` (default `caregate <noreply@` + the public URL's host `>`): where invitation
    /// e-mails go out. Unset, mail is only logged (recipient and subject) and links are shown in the app.
    pub mailer: std::sync::Arc<Mailer>,
}

impl Config {
    /// Reads the environment; a malformed value is an error naming the variable.
    pub fn from_env() -> Result<Config, String> {
        let mut leptos = get_configuration(None).map_err(|err| format!("Leptos settings: {err}"))?.leptos_options;
        if leptos.output_name.is_empty() {
            leptos.output_name = "caregate".into();
        }
        let database_url = non_empty_var("DATABASE_URL").unwrap_or_else(|| domain::db::DEFAULT_DATABASE_URL.to_owned());
        let public_url = match non_empty_var("CAREGATE_PUBLIC_URL") {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => url.trim_end_matches('/').to_owned(),
            Some(url) => return Err(format!("CAREGATE_PUBLIC_URL must start with http:// or https://, got {url:?}")),
            None => format!("http://{}", leptos.site_addr),
        };
        let token_environment = token_environment(non_empty_var("CAREGATE_ENV").as_deref(), &public_url)?;
        let warm_path = non_empty_var("CAREGATE_WARM_PATH").as_deref() != Some("off");
        let disclosures = non_empty_var("CAREGATE_DISCLOSURES").as_deref() != Some("off");
        let oauth_loopback_clients = non_empty_var("CAREGATE_OAUTH_LOOPBACK_CLIENTS").as_deref() == Some("1");
        let oauth_test_authority = match non_empty_var("CAREGATE_OAUTH_TEST_CA") {
            Some(_) if !oauth_loopback_clients => {
                return Err("CAREGATE_OAUTH_TEST_CA is for tests and needs CAREGATE_OAUTH_LOOPBACK_CLIENTS=1".to_owned())
            }
            Some(path) => Some(std::fs::read(&path).map_err(|err| format!("CAREGATE_OAUTH_TEST_CA: cannot read {path}: {err}"))?),
            None => None,
        };
        let forwarded_header = match non_empty_var("CAREGATE_FORWARDED_HEADER") {
            Some(name) => ForwardedHeader::parse(&name).map_err(|err| format!("CAREGATE_FORWARDED_HEADER: {err}"))?,
            None => ForwardedHeader::default(),
        };
        let trusted_proxies = TrustedProxies::parse(&non_empty_var("CAREGATE_TRUSTED_PROXIES").unwrap_or_default())
            .map_err(|err| format!("CAREGATE_TRUSTED_PROXIES: {err}"))?
            .with_header(forwarded_header);
        let metrics_addr = match non_empty_var("CAREGATE_METRICS_ADDR") {
            Some(addr) => {
                Some(addr.trim().parse().map_err(|_| format!("CAREGATE_METRICS_ADDR must be an address such as 127.0.0.1:9100, got {addr:?}"))?)
            }
            None => None,
        };
        let secret_key = std::sync::Arc::new(secret_key(non_empty_var("CAREGATE_SECRET_KEY").as_deref(), &database_url)?);
        let from = non_empty_var("CAREGATE_MAIL_FROM").unwrap_or_else(|| format!("caregate <noreply@{}>", host_of(&public_url)));
        let mailer = std::sync::Arc::new(Mailer::new(non_empty_var("CAREGATE_SMTP_URL").as_deref(), &from)?);
        Ok(Config {
            database_url,
            public_url,
            leptos,
            token_environment,
            warm_path,
            disclosures,
            oauth_loopback_clients,
            oauth_test_authority,
            trusted_proxies,
            metrics_addr,
            secret_key,
            mailer,
        })
    }

    /// A configuration for tests: the given database, port 0, no static files.
    pub fn for_tests(database_url: &str) -> Config {
        let leptos = LeptosOptions::builder().output_name("caregate").site_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).build();
        Config {
            database_url: database_url.to_owned(),
            public_url: "http://127.0.0.1:3000".to_owned(),
            leptos,
            token_environment: TokenEnvironment::Test,
            warm_path: true,
            disclosures: true,
            oauth_loopback_clients: true,
            oauth_test_authority: None,
            trusted_proxies: TrustedProxies::default(),
            metrics_addr: None,
            secret_key: std::sync::Arc::new(SecretKey::generate().0),
            mailer: std::sync::Arc::new(Mailer::log_only()),
        }
    }

    /// Whether cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Which keys this deployment mints. A public https URL is a production deployment: it must say so
/// (`CAREGATE_ENV=live`) or say it is not (`test`), rather than mint test keys by default.
fn token_environment(value: Option<&str>, public_url: &str) -> Result<TokenEnvironment, String> {
    match value {
        Some("live") => Ok(TokenEnvironment::Live),
        Some("test") => Ok(TokenEnvironment::Test),
        None if public_url.starts_with("https://") => Err(format!(
            "CAREGATE_PUBLIC_URL is {public_url}, an https deployment, but CAREGATE_ENV is not set: set CAREGATE_ENV=live for \
             production (keys start cg_live_) or CAREGATE_ENV=test for a staging server (keys start cg_test_)"
        )),
        None => Ok(TokenEnvironment::Test),
        Some(other) => Err(format!("CAREGATE_ENV must be live or test, got {other:?}")),
    }
}

/// The key that seals two-factor seeds: `CAREGATE_SECRET_KEY`, or for a SQLite file the `secret.key` beside it.
fn secret_key(value: Option<&str>, database_url: &str) -> Result<SecretKey, String> {
    match (value, domain::db::sqlite_file(database_url)) {
        (Some(hex), _) => SecretKey::parse(hex).map_err(|err| format!("CAREGATE_SECRET_KEY {err}")),
        (None, Some(database)) => SecretKey::load_or_create(&database.with_file_name("secret.key")),
        (None, None) => Err("CAREGATE_SECRET_KEY is not set: a server on PostgreSQL needs it (64 hex digits, e.g. from `openssl rand -hex 32`), \
             the same on every server process, to encrypt two-factor seeds"
            .to_owned()),
    }
}

/// The host of a URL (`https://care.example:8443/x` → `care.example`), for the default sender address.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_https_deployment_must_name_its_key_environment() {
        let refused = token_environment(None, "https://care.example.com").unwrap_err();
        assert!(refused.contains("CAREGATE_ENV=live"), "{refused}");
        assert_eq!(token_environment(Some("live"), "https://care.example.com"), Ok(TokenEnvironment::Live));
        assert_eq!(token_environment(Some("test"), "https://staging.example.com"), Ok(TokenEnvironment::Test));
        assert_eq!(token_environment(None, "http://127.0.0.1:3000"), Ok(TokenEnvironment::Test), "local http runs need nothing");
        assert!(token_environment(Some("prod"), "http://127.0.0.1:3000").is_err());
    }

    #[test]
    fn postgresql_deployments_must_share_a_secret_key_and_sqlite_makes_its_own() {
        let refused = secret_key(None, "postgres://caregate@db/caregate").err().unwrap();
        assert!(refused.starts_with("CAREGATE_SECRET_KEY is not set"), "{refused}");
        assert!(secret_key(Some(&"ab".repeat(32)), "postgres://caregate@db/caregate").is_ok());
        assert!(secret_key(Some("short"), "postgres://caregate@db/caregate").err().unwrap().contains("64 hex digits"));
        let dir = std::env::temp_dir().join(format!("caregate-config-{}", std::process::id()));
        let url = format!("sqlite://{}/caregate.db?mode=rwc", dir.display());
        secret_key(None, &url).unwrap();
        assert!(dir.join("secret.key").exists(), "the key lives beside the database file");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
