//! The command line: `debrief [serve | migrate | user create | token create | demo]`.

use std::io::BufRead;

use anyhow::{Context, anyhow, bail};
use secrecy::ExposeSecret;

use crate::{
    auth::{
        self,
        db::InsertUserError,
        domain::{DisplayName, Email, NewPassword, Role, TokenName},
    },
    config::Config,
    db,
    demo::{
        self, DemoPassword,
        generate::{self, GenerateReport},
        load::LoadReport,
    },
    evidence::store::ArtifactStore,
    startup::Application,
};

pub const USAGE: &str = "\
Debrief: blameless postmortems for SRE teams.

Usage:
  debrief [serve]                                  run the web app (the default)
  debrief migrate                                  create and migrate the database, then exit
  debrief user create --email E --name N --role R  add a user (viewer, editor or admin);
                                                   the password is read from standard input
  debrief token create --email E --name N          print a new API token for that user, once
  debrief demo                                     load 12 demo postmortems into an empty database,
                                                   with five demo users whose password is
                                                   DEBRIEF_DEMO_PASSWORD, or a random one it prints
  debrief demo --incidents N                       add N generated incidents (1 to 10000000),
                                                   for benchmarks
  debrief help                                     this text

Configuration comes from environment variables; see .env.example.";

/// What was asked on the command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve,
    Migrate,
    CreateUser { email: String, name: String, role: String },
    CreateToken { email: String, name: String },
    LoadDemo,
    GenerateIncidents { count: u32 },
    Help,
}

impl Command {
    pub fn parse(args: &[String]) -> Result<Command, String> {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        match words.as_slice() {
            [] | ["serve"] => Ok(Command::Serve),
            ["migrate"] => Ok(Command::Migrate),
            ["help" | "--help" | "-h"] => Ok(Command::Help),
            ["user", "create", rest @ ..] => {
                let mut flags = Flags::parse(rest, &["--email", "--name", "--role"])?;
                Ok(Command::CreateUser {
                    email: flags.take("--email")?,
                    name: flags.take("--name")?,
                    role: flags.take("--role")?,
                })
            }
            ["token", "create", rest @ ..] => {
                let mut flags = Flags::parse(rest, &["--email", "--name"])?;
                Ok(Command::CreateToken { email: flags.take("--email")?, name: flags.take("--name")? })
            }
            ["demo"] => Ok(Command::LoadDemo),
            ["demo", rest @ ..] => {
                let mut flags = Flags::parse(rest, &["--incidents"])?;
                Ok(Command::GenerateIncidents { count: parse_incident_count(&flags.take("--incidents")?)? })
            }
            _ => Err(format!("unknown command: debrief {}\n\n{USAGE}", words.join(" "))),
        }
    }
}

/// How many incidents to generate: a whole number within the generator's range.
fn parse_incident_count(raw: &str) -> Result<u32, String> {
    let limit = generate::MAX_INCIDENTS;
    match raw.parse::<u32>() {
        Ok(count) if (1..=limit).contains(&count) => Ok(count),
        _ => Err(format!("--incidents takes a whole number from 1 to {limit}, not {raw:?}")),
    }
}

struct Flags(Vec<(String, String)>);

impl Flags {
    fn parse(words: &[&str], known: &[&str]) -> Result<Flags, String> {
        let mut pairs = Vec::new();
        let mut iter = words.iter();
        while let Some(word) = iter.next() {
            let (flag, value) = match word.split_once('=') {
                Some((flag, value)) => (flag, value.to_owned()),
                None => (*word, iter.next().ok_or(format!("{word} needs a value"))?.to_string()),
            };
            if !known.contains(&flag) {
                return Err(format!("unknown option {flag}; expected {}", known.join(", ")));
            }
            pairs.push((flag.to_owned(), value));
        }
        Ok(Flags(pairs))
    }

    fn take(&mut self, flag: &str) -> Result<String, String> {
        let index = self.0.iter().position(|(name, _)| name == flag).ok_or(format!("{flag} is required"))?;
        Ok(self.0.remove(index).1)
    }
}

/// Runs the command; an error is the one line to print before exiting.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Command::Serve => {
            let pool = db::connect_and_migrate(&config).await?;
            let app = Application::build(config, pool).await?;
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let pool = db::connect_and_migrate(&config).await?;
            pool.close().await;
            println!("The database is migrated.");
            Ok(())
        }
        Command::CreateUser { email, name, role } => {
            let email = Email::parse(&email).map_err(|e| anyhow!("--email: {e}"))?;
            let name = DisplayName::parse(&name).map_err(|e| anyhow!("--name: {e}"))?;
            let role = Role::parse(&role).map_err(|e| anyhow!("--role: {e}"))?;
            let password = read_password()?;
            let password = NewPassword::parse(&password, None).map_err(|e| anyhow!("password: {e}"))?;
            let pool = db::connect_and_migrate(&config).await?;
            let user = match auth::create_user(
                &pool,
                &auth::credentials::Hashing::for_tools(),
                &email,
                &name,
                &password,
                role,
            )
            .await
            {
                Ok(user) => user,
                Err(InsertUserError::EmailTaken) => {
                    bail!("a user with the email {} already exists", email.as_str())
                }
                Err(InsertUserError::Other(err)) => return Err(anyhow!("{err:#}")),
            };
            pool.close().await;
            println!("Created {} <{}> as {}.", user.name, user.email, user.role);
            Ok(())
        }
        Command::CreateToken { email, name } => {
            let email = Email::parse(&email).map_err(|e| anyhow!("--email: {e}"))?;
            let name = TokenName::parse(&name).map_err(|e| anyhow!("--name: {e}"))?;
            let pool = db::connect_and_migrate(&config).await?;
            let (user, _) = auth::db::find_user_with_hash(&pool, email.as_str())
                .await
                .map_err(|err| anyhow!("{err:#}"))?
                .ok_or_else(|| anyhow!("no user has the email {}", email.as_str()))?;
            if user.disabled {
                bail!("{} is disabled; enable the account first", email.as_str());
            }
            let token =
                auth::issue_api_token(&pool, user.id, &name).await.map_err(|err| anyhow!("{err:#}"))?;
            pool.close().await;
            eprintln!("A token for {} (shown this once; keep it safe):", user.email);
            println!("{}", token.expose_secret());
            Ok(())
        }
        Command::LoadDemo => {
            let password = DemoPassword::from_env().map_err(anyhow::Error::msg)?;
            let pool = db::connect_and_migrate(&config).await?;
            let store = ArtifactStore::open(&config.storage, &config.data_dir.join("spool"))?;
            let report = demo::load::load_demo(&pool, &store, &password.password).await?;
            pool.close().await;
            println!("{}", report.summary());
            print_sign_in(&report, &password, &sign_in_url(&config));
            Ok(())
        }
        Command::GenerateIncidents { count } => {
            db::connect_and_migrate(&config).await?.close().await;
            let pool = generate::connect(&config).await?;
            let report = generate::generate_incidents(&pool, count, |done| {
                eprintln!("generated {done} of {count} incidents");
            })
            .await?;
            pool.close().await;
            print_generated(&report);
            Ok(())
        }
    }
}

/// Where people sign in to the app this configuration serves.
fn sign_in_url(config: &Config) -> String {
    let origin = config.base_url.clone().unwrap_or_else(|| format!("http://{}", config.bind));
    format!("{}/login", origin.trim_end_matches('/'))
}

/// Who can sign in after `debrief demo`, and with what: the one time a
/// random password is ever shown.
fn print_sign_in(report: &LoadReport, password: &DemoPassword, url: &str) {
    if password.generated {
        println!("Sign in at {url} as any of these users, with the password {}", password.password.expose());
    } else {
        println!("Sign in at {url} as any of these users, with the password in {}", demo::PASSWORD_VAR);
    }
    for (persona, created) in &report.users {
        let note = if *created { "" } else { " (already there; password unchanged)" };
        println!("  {:<24} {:<9} {}{note}", persona.email, persona.name, persona.role);
    }
}

fn print_generated(report: &GenerateReport) {
    println!(
        "Generated {} incidents in {:.1} s ({:.0} per second).",
        report.incidents,
        report.elapsed.as_secs_f64(),
        report.per_second()
    );
}

/// The first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!(
            "no password on standard input (pipe it in: printf '%s\\n' \"$PASSWORD\" | debrief user create ...)"
        );
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, String> {
        Command::parse(&line.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn commands_are_recognised() {
        assert_eq!(parse(""), Ok(Command::Serve));
        assert_eq!(parse("migrate"), Ok(Command::Migrate));
        assert_eq!(
            parse("user create --email a@b.io --name=Ana --role admin"),
            Ok(Command::CreateUser { email: "a@b.io".into(), name: "Ana".into(), role: "admin".into() })
        );
        assert_eq!(
            parse("token create --name hook --email a@b.io"),
            Ok(Command::CreateToken { email: "a@b.io".into(), name: "hook".into() })
        );
        assert_eq!(parse("demo"), Ok(Command::LoadDemo));
        assert_eq!(parse("demo --incidents 100000"), Ok(Command::GenerateIncidents { count: 100_000 }));
        assert_eq!(parse("demo --incidents=10000000"), Ok(Command::GenerateIncidents { count: 10_000_000 }));
    }

    #[test]
    fn an_incident_count_outside_the_generators_range_is_explained() {
        for bad in ["0", "10000001", "-5", "lots", "1e5", ""] {
            let err = parse_incident_count(bad).unwrap_err();
            assert_eq!(err, format!("--incidents takes a whole number from 1 to 10000000, not {bad:?}"));
        }
        assert!(parse("demo --incidents").unwrap_err().contains("needs a value"));
        assert!(parse("demo --count 5").unwrap_err().contains("unknown option --count"));
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse("user create --email a@b.io --name Ana").unwrap_err().contains("--role is required"));
        assert!(parse("user create --email").unwrap_err().contains("needs a value"));
        assert!(parse("user create --mail a@b.io").unwrap_err().contains("unknown option --mail"));
        assert!(parse("frobnicate").unwrap_err().contains("unknown command"));
    }
}
