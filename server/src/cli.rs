//! The `caregate` command line: serve, migrate, seed demo data, create companies, add and manage users, and
//! manage API keys.
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use chrono::Utc;
use clap::{Parser, Subcommand};
use domain::accounts::{self, NewUser};
use domain::activity::Origin;
use domain::db::DatabaseConnection;
use domain::keys::service::{self as key_service, Actor};
use domain::model::{ExpiryChoice, KeyFilter, MintRequest, RollOverlap};
use domain::password::Password;
use domain::scope::Scope;
use domain::{demo, invitations, people, Role};

use crate::config::Config;

#[derive(Parser)]
#[command(name = "caregate", version, about = "API keys and an MCP endpoint for home-care agencies")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load data into the database.
    Seed {
        /// The demo companies Sunrise Home Care and Harbor Care (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Manage companies.
    Company {
        #[command(subcommand)]
        command: CompanyCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys, under the same policy as the web app.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Raise the expiry reminders that are due now (alerts and e-mails) and exit; the server also does it
    /// at start-up and every 5 minutes.
    Reminders,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Mint a key for a user and print only the token on stdout.
    Mint {
        #[arg(long)]
        email: String,
        #[arg(long)]
        label: String,
        /// Lifetime in days (default: 90, or the company's maximum if shorter).
        #[arg(long)]
        days: Option<u32>,
        /// Comma-separated scopes, e.g. read:visits,read:schedule (or --all-scopes).
        #[arg(long, value_delimiter = ',', required_unless_present = "all_scopes")]
        scopes: Vec<String>,
        /// Every scope the user's role allows, instead of --scopes.
        #[arg(long, conflicts_with = "scopes")]
        all_scopes: bool,
        /// Comma-separated IP addresses and CIDR blocks the key may be used from, e.g.
        /// 203.0.113.0/24,2001:db8::/32 (default: anywhere).
        #[arg(long, value_delimiter = ',')]
        allow_ip: Vec<String>,
    },
    /// List keys (never their secrets), of one user or of every company.
    List {
        #[arg(long)]
        email: Option<String>,
    },
    /// Revoke a key by its Key ID; the next request with it is refused.
    Revoke { key_id: String },
    /// Roll a key: mint its successor (same owner, label, scopes and IP allowlist) and print only the new
    /// token; the old key stops after the overlap, never after its own expiry.
    Roll {
        key_id: String,
        /// How long the old key keeps working: now, 1h, 24h or 7d.
        #[arg(long, default_value = "24h", value_parser = RollOverlap::parse)]
        overlap: RollOverlap,
    },
}

#[derive(Subcommand)]
enum CompanyCommand {
    /// Create a company and its first Root User. The password is read from stdin, or generated and printed once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        root_email: String,
        /// The Root User's display name.
        #[arg(long, default_value = "Administrator")]
        root_name: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to a company. The password is read from stdin, or generated and printed once.
    Add {
        #[arg(long)]
        company_account: i64,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// root, user or caregiver.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Invite a person: their account waits for them to set a password through a link, printed once (valid 72
    /// hours).
    Invite {
        #[arg(long)]
        company_account: i64,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// root, user or caregiver.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// A new invitation link for someone who has not accepted yet (their earlier links stop working).
    InviteAgain {
        #[arg(long)]
        email: String,
    },
    /// Deactivate a user: they cannot sign in, their sessions end and their API keys stop working.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Reactivate a deactivated user; their keys that have neither expired nor been revoked work again.
    Activate {
        #[arg(long)]
        email: String,
    },
    /// Give a user another role (a company keeps at least one active Root User).
    SetRole {
        #[arg(long)]
        email: String,
        /// root, user or caregiver.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value).ok_or_else(|| format!("unknown role {value:?}; use root, user or caregiver"))
}

/// Prints one line on stdout. When stdout is a pipe whose reader has gone (`caregate keys list | head -1`),
/// the command ends quietly with success, as other Unix tools do, instead of panicking in `println!`.
macro_rules! say {
    ($($arg:tt)*) => { print_line(format_args!($($arg)*), None) };
}

/// Prints a secret shown only once (a new token, a generated password). If it cannot be written the secret is
/// lost, so a closed pipe is then a failure (exit 1) with `lost` on stderr, not a quiet success.
macro_rules! say_secret {
    ($lost:expr, $($arg:tt)*) => { print_line(format_args!($($arg)*), Some($lost)) };
}

fn print_line(line: std::fmt::Arguments<'_>, lost: Option<&str>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_fmt(line).and_then(|()| stdout.write_all(b"\n")).and_then(|()| stdout.flush());
    if let Err(err) = written {
        match lost {
            None if err.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
            None => eprintln!("error: cannot write to stdout: {err}"),
            Some(lost) => eprintln!("error: cannot write to stdout ({err}): {lost}"),
        }
        std::process::exit(1);
    }
}

/// Runs the command and turns its outcome into an exit code, printing errors to stderr.
pub async fn run(cli: Cli) -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(message) => return fail(&message),
    };
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::startup::serve(config).await,
        Command::Migrate => open(&config).await.map(|_| say!("migrations applied")),
        Command::Seed { demo: true } => seed_demo(&config).await,
        Command::Seed { demo: false } => Err("nothing to seed: pass --demo".to_owned()),
        Command::Company { command: CompanyCommand::Create { name, root_email, root_name } } => {
            create_company(&config, &name, &root_email, &root_name).await
        }
        Command::User { command } => user(&config, command).await,
        Command::Keys { command } => keys(&config, command).await,
        Command::Reminders => reminders(&config).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn open(config: &Config) -> Result<DatabaseConnection, String> {
    Ok(crate::startup::build_state(config).await?.db.clone())
}

fn explain(err: domain::DomainError) -> String {
    if err.is_internal() {
        tracing::error!(error = %err, "command failed");
        "the command failed; see the log above".to_owned()
    } else {
        err.to_string()
    }
}

async fn reminders(config: &Config) -> Result<(), String> {
    let db = open(config).await?;
    let run = crate::reminders::run_once(&db, &config.mailer, &config.public_url).await.map_err(explain)?;
    say!("{} reminder(s) raised, {} e-mailed", run.raised, run.mailed);
    Ok(())
}

async fn seed_demo(config: &Config) -> Result<(), String> {
    let db = open(config).await?;
    match demo::seed(&db).await.map_err(explain)? {
        demo::SeedOutcome::Created => say!("Demo data created."),
        demo::SeedOutcome::AlreadyPresent => say!("Demo data already present; nothing changed."),
    }
    say!("Sign in at {}/login with any of these (password: {}):", config.public_url, demo::DEMO_PASSWORD);
    for account in demo::DEMO_ACCOUNTS {
        say!("  {:<22} {:<10} {}", account.email, account.role.as_str(), account.company);
    }
    Ok(())
}

/// The new password: the first line of piped stdin, or a generated one (then `generated` is true).
fn new_password() -> Result<(Password, bool), String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map_err(|err| format!("cannot read the password from stdin: {err}"))?;
        let line = line.trim_end_matches(['\r', '\n']);
        if !line.is_empty() {
            return Password::parse_new(line).map(|password| (password, false)).map_err(explain);
        }
    }
    Ok((Password::generate(), true))
}

async fn create_company(config: &Config, name: &str, root_email: &str, root_name: &str) -> Result<(), String> {
    let (password, generated) = new_password()?;
    let shown = generated.then(|| password.expose().to_owned());
    let db = open(config).await?;
    let (company, root) = accounts::create_company_with_root(&db, name, root_email, root_name, password).await.map_err(explain)?;
    say!("Created {} (account number {}) with Root User {}", company.name, company.account_number, root.email);
    if let Some(password) = shown {
        say_secret!("the generated password was not shown; set a new one before anyone signs in", "Generated password (shown once): {password}");
    }
    Ok(())
}

async fn add_user(config: &Config, company_account: i64, email: &str, name: &str, role: Role) -> Result<(), String> {
    let (password, generated) = new_password()?;
    let shown = generated.then(|| password.expose().to_owned());
    let db = open(config).await?;
    let company = accounts::find_company_by_account(&db, company_account).await.map_err(explain)?;
    let user = accounts::add_user(&db, NewUser { company_id: company.id, email, name, role, password }).await.map_err(explain)?;
    say!("Added {} ({}) to {}", user.email, role.display_name(), company.name);
    if let Some(password) = shown {
        say_secret!("the generated password was not shown; set a new one before anyone signs in", "Generated password (shown once): {password}");
    }
    Ok(())
}

/// Adds a user, or deactivates, reactivates or changes the role of one through the people service.
async fn user(config: &Config, command: UserCommand) -> Result<(), String> {
    if let UserCommand::Add { company_account, email, name, role } = command {
        return add_user(config, company_account, &email, &name, role).await;
    }
    let db = open(config).await?;
    let (origin, now) = (Origin::operator(), Utc::now());
    let find = |email: String| {
        let db = db.clone();
        async move { accounts::find_user_by_email(&db, &email).await.map_err(explain) }
    };
    match command {
        UserCommand::Add { .. } => {}
        UserCommand::Invite { company_account, email, name, role } => {
            let company = accounts::find_company_by_account(&db, company_account).await.map_err(explain)?;
            let person = invitations::NewPerson { email: &email, name: &name, role };
            let invited = invitations::invite(&db, &Actor::Operator, company.id, person, &origin, now).await.map_err(explain)?;
            say!(
                "Invited {} ({}) to {}; the link works until {}:",
                invited.account.email,
                role.display_name(),
                company.name,
                invited.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            show_invitation_link(config, &invited).await;
        }
        UserCommand::InviteAgain { email } => {
            let user = find(email).await?;
            let invited = invitations::renew(&db, &Actor::Operator, user.id, &origin, now).await.map_err(explain)?;
            say!(
                "A new link for {}; earlier links no longer work. It works until {}:",
                invited.account.email,
                invited.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            show_invitation_link(config, &invited).await;
        }
        UserCommand::Deactivate { email } => {
            let user = find(email).await?;
            let changed = people::deactivate(&db, &Actor::Operator, user.id, &origin, now).await.map_err(explain)?;
            say!("Deactivated {}: their sessions ended and {} active API key(s) stopped working", changed.account.email, changed.live_keys);
        }
        UserCommand::Activate { email } => {
            let user = find(email).await?;
            let changed = people::activate(&db, &Actor::Operator, user.id, &origin, now).await.map_err(explain)?;
            say!("Reactivated {}: {} API key(s) within their expiry work again", changed.account.email, changed.live_keys);
        }
        UserCommand::SetRole { email, role } => {
            let user = find(email).await?;
            let changed = people::set_role(&db, &Actor::Operator, user.id, role, &origin, now).await.map_err(explain)?;
            say!("{} is now a {} (was a {})", changed.account.email, role.display_name(), user.role.display_name());
        }
    }
    Ok(())
}

/// E-mails the invitation when mail is set up, then prints its link, the one time it is shown.
async fn show_invitation_link(config: &Config, invited: &invitations::Invitation) {
    if invitations::send(&config.mailer, invited, &config.public_url).await {
        say!("The invitation was also e-mailed to {}.", invited.account.email);
    }
    let lost = format!("the invitation link was not shown; send another with: caregate user invite-again --email {}", invited.account.email);
    say_secret!(&lost, "{}", invited.secret.link(&config.public_url));
}

async fn keys(config: &Config, command: KeysCommand) -> Result<(), String> {
    let db = open(config).await?;
    let now = Utc::now();
    match command {
        KeysCommand::Mint { email, label, days, scopes, all_scopes, allow_ip } => {
            let user = accounts::find_user_by_email(&db, &email).await.map_err(explain)?;
            let owner = accounts::current_user(&db, user.id)
                .await
                .map_err(explain)?
                .ok_or_else(|| format!("{} is deactivated and cannot hold keys", user.email))?;
            let scopes = if all_scopes { Scope::allowed_for(owner.role).iter().map(|scope| scope.as_str().to_owned()).collect() } else { scopes };
            let request = MintRequest { label, expiry: days.map(ExpiryChoice::Days), scopes, allowed_ips: allow_ip };
            let (minted, token) = key_service::mint(&db, &Actor::Operator, &owner, request, config.token_environment, &Origin::operator(), now)
                .await
                .map_err(explain)?;
            let lost = format!("the new key's token was not shown; revoke it (caregate keys revoke {}) and mint another", minted.key_id);
            say_secret!(&lost, "{}", token.expose());
        }
        KeysCommand::List { email } => {
            let user_id = match email {
                Some(email) => Some(accounts::find_user_by_email(&db, &email).await.map_err(explain)?.id),
                None => None,
            };
            let mut filter = KeyFilter { user_id, per_page: 100, ..KeyFilter::default() };
            say!("{:<8}  {:<8}  {:<24}  {:<30}  {:<16}  {:<16}  {}", "KEY ID", "STATUS", "OWNER", "LABEL", "CREATED", "LAST USED", "EXPIRES");
            loop {
                let page = key_service::list(&db, &Actor::Operator, filter.clone(), now).await.map_err(explain)?;
                for key in &page.keys {
                    let when = |at: Option<chrono::DateTime<Utc>>, none: &str| {
                        at.map(|at| at.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| none.to_owned())
                    };
                    say!(
                        "{:<8}  {:<8}  {:<24}  {:<30}  {:<16}  {:<16}  {}",
                        key.key_id,
                        key.status.as_str(),
                        key.owner_name,
                        key.label.chars().take(30).collect::<String>(),
                        key.created_at.format("%Y-%m-%d %H:%M"),
                        when(key.last_used_at, "Never"),
                        when(key.expires_at, "Never"),
                    );
                }
                if u64::from(page.page) * u64::from(page.per_page) >= page.total {
                    break;
                }
                filter.page += 1;
            }
        }
        KeysCommand::Roll { key_id, overlap } => {
            let (rolled, token) = key_service::roll(&db, &Actor::Operator, &key_id, overlap, config.token_environment, &Origin::operator(), now)
                .await
                .map_err(explain)?;
            let lost =
                format!("the new key's token was not shown; revoke it with caregate keys revoke {} (the old key stops as chosen)", rolled.key_id);
            say_secret!(&lost, "{}", token.expose());
        }
        KeysCommand::Revoke { key_id } => {
            let key = key_service::revoke(&db, &Actor::Operator, &key_id, &Origin::operator(), now).await.map_err(explain)?;
            say!("Revoked {} (\"{}\" of {})", key.key_id, key.label, key.owner_name);
        }
    }
    Ok(())
}
