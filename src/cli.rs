//! The command line: `debrief [serve | migrate | user create | token create | demo | analyze]`.

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
    web::audit::{self, Action, Actor, AuditEvent},
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
  debrief analyze FILE [--json] [--sample-type T] [--base FILE]
                                                   analyse a Go profile, goroutine dump, crash
                                                   or execution trace (- for standard input)
                                                   with no server or database: a summary and a
                                                   top table, or with --json the analysis the
                                                   API returns; --sample-type picks a profile's
                                                   sample type; --base compares FILE with an
                                                   earlier profile or dump (FILE minus base)
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
    Analyze(analyze::Request),
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
            ["analyze", rest @ ..] => analyze::Request::parse(rest).map(Command::Analyze),
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
        Command::Analyze(request) => {
            // Dispatched before the configuration is read; kept here so the match is whole.
            analyze::analyze(&request).map(|text| print!("{text}")).map_err(|err| anyhow!("{err}"))
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
            let user = create_user(&pool, &email, &name, &password, role).await?;
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
            let token = issue_token(&pool, &user, &name).await.map_err(|err| anyhow!("{err:#}"))?;
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
            let playbooks = crate::playbooks::library::load(&pool).await?;
            pool.close().await;
            println!("{}", report.summary());
            if playbooks > 0 {
                println!("Added the {playbooks} starter playbooks.");
            }
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
/// Creates the user, recorded in the audit trail as done by the command line.
async fn create_user(
    pool: &sqlx::PgPool,
    email: &Email,
    name: &DisplayName,
    password: &NewPassword,
    role: Role,
) -> anyhow::Result<auth::db::User> {
    let internal = |err: crate::error::AppError| anyhow!("{err:#}");
    let mut tx = pool.begin().await?;
    let hashing = auth::credentials::Hashing::for_tools();
    let user = match auth::create_user(&mut *tx, &hashing, email, name, password, role).await {
        Ok(user) => user,
        Err(InsertUserError::EmailTaken) => bail!("a user with the email {} already exists", email.as_str()),
        Err(InsertUserError::Other(err)) => return Err(internal(err)),
    };
    let cli = Actor::cli();
    let event = AuditEvent::new(&cli, Action::UserCreated)
        .target(audit::person(&user))
        .detail(serde_json::json!({ "user_id": user.id, "role": user.role }));
    audit::record(&mut *tx, &event).await.map_err(internal)?;
    tx.commit().await?;
    Ok(user)
}

/// A new API token for `user`, recorded in the audit trail as made by the
/// command line.
async fn issue_token(
    pool: &sqlx::PgPool,
    user: &auth::db::User,
    name: &TokenName,
) -> crate::error::Result<secrecy::SecretString> {
    let mut tx = pool.begin().await?;
    let token = auth::issue_api_token(&mut *tx, user.id, name).await?;
    let label = auth::db::token_label(name.as_str(), &auth::token_hint(&token));
    let cli = Actor::cli();
    let event = AuditEvent::new(&cli, Action::TokenCreated)
        .target(label)
        .detail(serde_json::json!({ "owner": audit::person(user) }));
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(token)
}

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

/// `debrief analyze`: the analysis of one evidence file, or the difference
/// of two, computed here as the app computes it, with no configuration,
/// server or database.
pub mod analyze {
    use std::{fmt::Write as _, fs::File, io::Read, process::ExitCode};

    use crate::evidence::{
        analysis::{self, AnalysisError, trace_releases},
        detect::{DumpKind, Format, PREFIX_BYTES, TextProfile, detect},
        goroutines::{self, DumpAnalysis, DumpDiff, GroupView, Suspect},
        gunzip::{gunzip, is_gzip},
        pprof::{self, Filter, Profile, ProfileError, TopTable, format::label},
    };

    /// Files larger than this are refused before they are read.
    pub const MAX_FILE_BYTES: u64 = 1 << 30;
    /// The most a file may decompress to: the default of
    /// `DEBRIEF_MAX_ANALYSIS_BYTES`, so a file the app analyses is analysed
    /// here too, and a gzip bomb is refused the same way.
    pub const MAX_DECOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;
    /// Rows of a top table, groups of a dump, shown in a terminal.
    const ROWS_SHOWN: usize = 25;
    /// Where explanations wrap.
    const TEXT_WIDTH: usize = 96;

    /// What `debrief analyze` was asked to read and show.
    #[derive(Debug, Default, PartialEq, Eq)]
    pub struct Request {
        pub file: String,
        pub json: bool,
        pub sample_type: Option<String>,
        /// The earlier file that `file` is compared with.
        pub base: Option<String>,
    }

    impl Request {
        /// `FILE [--json] [--sample-type T] [--base FILE]`, in any order.
        pub fn parse(words: &[&str]) -> Result<Request, String> {
            let mut request = Request::default();
            let mut file = None;
            let mut iter = words.iter();
            while let Some(word) = iter.next() {
                let (flag, inline) = match word.split_once('=') {
                    Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
                    _ => (*word, None),
                };
                let mut value = || -> Result<String, String> {
                    match inline {
                        Some(value) => Ok(value.to_owned()),
                        None => iter.next().map(|v| v.to_string()).ok_or(format!("{flag} needs a value")),
                    }
                };
                match flag {
                    "--json" if inline.is_none() => request.json = true,
                    "--json" => return Err("--json takes no value".into()),
                    "--sample-type" if request.sample_type.is_none() => request.sample_type = Some(value()?),
                    "--base" if request.base.is_none() => request.base = Some(value()?),
                    "--sample-type" | "--base" => return Err(format!("{flag} is given twice")),
                    flag if flag.starts_with('-') && flag != "-" => {
                        return Err(format!("unknown option {flag}; expected --json, --sample-type, --base"));
                    }
                    path if file.is_none() => file = Some(path.to_owned()),
                    _ => return Err("analyze takes one FILE; compare two with FILE --base EARLIER".into()),
                }
            }
            request.file = file.ok_or("analyze needs a FILE: debrief analyze FILE [--json]")?;
            if request.sample_type.as_deref() == Some("") {
                return Err("--sample-type needs a sample type's name".into());
            }
            Ok(request)
        }
    }

    /// Why nothing was shown: the line to print, and how the process ends.
    #[derive(Debug, PartialEq, Eq, thiserror::Error)]
    pub enum AnalyzeError {
        /// The request cannot be answered as asked (exit 2).
        #[error("{0}")]
        Usage(String),
        /// A file cannot be read or analysed (exit 1).
        #[error("{0}")]
        Failed(String),
    }

    impl AnalyzeError {
        pub fn exit_code(&self) -> ExitCode {
            match self {
                AnalyzeError::Usage(_) => ExitCode::from(2),
                AnalyzeError::Failed(_) => ExitCode::FAILURE,
            }
        }
    }

    use AnalyzeError::{Failed, Usage};

    /// Runs `debrief analyze`: the output on stdout, or one line on stderr.
    pub fn run(request: &Request) -> ExitCode {
        use std::io::Write;
        match analyze(request) {
            Ok(text) => match std::io::stdout().lock().write_all(text.as_bytes()) {
                // A reader that stops early (`| head`) is not a failure.
                Ok(()) => ExitCode::SUCCESS,
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("debrief: cannot write the analysis: {err}");
                    ExitCode::FAILURE
                }
            },
            Err(err) => {
                eprintln!("debrief: {err}");
                err.exit_code()
            }
        }
    }

    /// The text to print for `request`.
    pub fn analyze(request: &Request) -> Result<String, AnalyzeError> {
        let target = Loaded::read(&request.file)?;
        match &request.base {
            None => analyze_one(request, &target),
            Some(base) => compare(request, &Loaded::read(base)?, &target),
        }
    }

    /// A file's bytes and detected format.
    struct Loaded {
        path: String,
        bytes: Vec<u8>,
        format: Format,
    }

    impl Loaded {
        fn read(path: &str) -> Result<Loaded, AnalyzeError> {
            let bytes = read_bounded(path)?;
            let format = detect(&bytes[..bytes.len().min(PREFIX_BYTES)]);
            if format == Format::Other {
                return Err(Failed(format!("{path}: not a Go profile, dump or trace")));
            }
            Ok(Loaded { path: path.to_owned(), bytes, format })
        }

        fn is_profile(&self) -> bool {
            matches!(self.format, Format::Pprof { .. } | Format::PprofText { .. })
        }

        fn profile(&self) -> Result<Profile, AnalyzeError> {
            pprof::read_profile(&self.bytes, MAX_DECOMPRESSED_BYTES).map_err(|err| self.failed(err))
        }

        /// The dump's analysis, decompressed within the bound as the app
        /// decompresses it.
        fn dump(&self) -> Result<DumpAnalysis, AnalyzeError> {
            let plain = if is_gzip(&self.bytes) {
                gunzip(&self.bytes, MAX_DECOMPRESSED_BYTES).map_err(|err| self.failed(err))?
            } else {
                self.bytes.clone()
            };
            goroutines::analyse_dump(&plain).map_err(|err| self.failed(err))
        }

        fn failed(&self, err: impl std::fmt::Display) -> AnalyzeError {
            Failed(format!("{}: {err}", self.path))
        }

        /// `FILE is a goroutine dump`, for refusals.
        fn kind(&self) -> String {
            format!("{} is {}", self.path, describe(&self.format))
        }
    }

    /// The whole file (standard input for `-`), refused past
    /// [`MAX_FILE_BYTES`]: the size is checked first, and reading stops one
    /// byte past it for a file that grows or a pipe.
    fn read_bounded(path: &str) -> Result<Vec<u8>, AnalyzeError> {
        let cannot = |err: std::io::Error| Failed(format!("cannot read {path}: {err}"));
        let too_large = || Failed(format!("{path} is larger than 1 GiB, the most debrief analyze reads"));
        let mut bytes = Vec::new();
        if path == "-" {
            std::io::stdin().lock().take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
        } else {
            let file = File::open(path).map_err(cannot)?;
            let size = file.metadata().map_err(cannot)?.len();
            if size > MAX_FILE_BYTES {
                return Err(too_large());
            }
            bytes.reserve(usize::try_from(size).unwrap_or(0));
            file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
        }
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large());
        }
        Ok(bytes)
    }

    fn analyze_one(request: &Request, file: &Loaded) -> Result<String, AnalyzeError> {
        if request.sample_type.is_some() && !file.is_profile() {
            return Err(Usage(format!("--sample-type is for profiles, and {}", file.kind())));
        }
        if request.json && request.sample_type.is_none() {
            // The very function the app's analysis queue runs.
            let analysed = analysis::analyse(&file.format, &file.bytes, MAX_DECOMPRESSED_BYTES).map_err(
                |err| match err {
                    AnalysisError::TooLarge(reason) | AnalysisError::Unreadable(reason) => {
                        file.failed(reason)
                    }
                },
            )?;
            let printed = pretty(&analysed.analysis);
            // Left to the end of the process: freeing a large analysis node
            // by node costs more than printing it did.
            std::mem::forget(analysed);
            return Ok(printed);
        }
        match &file.format {
            Format::Pprof { .. } | Format::PprofText { .. } => {
                let profile = file.profile()?;
                let sample_type = request.sample_type.as_deref();
                let index = pprof::sample_index_for(&profile, sample_type).map_err(sample_type_error)?;
                let analysis = pprof::analyse(&profile, sample_type).map_err(sample_type_error)?;
                if request.json {
                    return Ok(pretty(&analysis));
                }
                let table = pprof::top_table(&profile, index, &Filter::default());
                Ok(profile_text(file, &analysis, &table))
            }
            Format::GoroutineDump { .. } => Ok(dump_text(file, &file.dump()?)),
            Format::GoTrace { go_version } => Ok(format!(
                "{}: Go execution trace, format {go_version}, written by {}; {} bytes\n\
                 Debrief reads a trace's header only: open the trace with `go tool trace {}`.\n",
                file.path,
                trace_releases(go_version),
                file.bytes.len(),
                file.path
            )),
            Format::Other => unreachable!("refused when read"),
        }
    }

    /// `target` minus `base`: two profiles, or two dumps.
    fn compare(request: &Request, base: &Loaded, target: &Loaded) -> Result<String, AnalyzeError> {
        if target.is_profile() && base.is_profile() {
            let (base_profile, target_profile) = (base.profile()?, target.profile()?);
            let sample_type = request.sample_type.as_deref();
            // A name the target lacks is a usage error; one the base lacks, a mismatch of files.
            pprof::sample_index_for(&target_profile, sample_type).map_err(sample_type_error)?;
            let mismatch =
                |err: ProfileError| Failed(format!("{} compared with {}: {err}", target.path, base.path));
            if request.json {
                let diff =
                    pprof::analyse_diff(&base_profile, &target_profile, sample_type).map_err(mismatch)?;
                return Ok(pretty(&diff));
            }
            let (name, table) =
                pprof::diff::diff_table(&base_profile, &target_profile, sample_type).map_err(mismatch)?;
            return Ok(profile_diff_text(base, target, &name, &table));
        }
        if request.sample_type.is_some() {
            return Err(Usage(format!("--sample-type is for profiles, and {}", target.kind())));
        }
        let is_dump = |file: &Loaded| matches!(file.format, Format::GoroutineDump { .. });
        if is_dump(target) && is_dump(base) {
            let diff = goroutines::diff_dumps(&base.dump()?, &target.dump()?);
            return Ok(if request.json { pretty(&diff) } else { dump_diff_text(base, target, &diff) });
        }
        Err(Usage(format!(
            "--base compares two profiles or two goroutine dumps, but {} and {}",
            target.kind(),
            base.kind()
        )))
    }

    fn sample_type_error(err: ProfileError) -> AnalyzeError {
        match err {
            ProfileError::UnknownSampleType { .. } => Usage(format!("--sample-type: {err}")),
            other => Failed(other.to_string()),
        }
    }

    fn pretty(value: &impl serde::Serialize) -> String {
        let mut text = serde_json::to_string_pretty(value).expect("an analysis is plain data");
        text.push('\n');
        text
    }

    /// What a format is, in words: `a gzipped pprof profile`.
    fn describe(format: &Format) -> String {
        let gzipped = if format.is_gzipped() { "gzipped " } else { "" };
        match format {
            Format::Pprof { .. } => format!("a {gzipped}pprof profile"),
            Format::PprofText { kind, .. } => {
                let kind = match kind {
                    TextProfile::Heap => "heap",
                    TextProfile::Contention => "block (contention)",
                    TextProfile::Mutex => "mutex",
                };
                format!("a {gzipped}{kind} profile in Go's legacy text form")
            }
            Format::GoroutineDump { kind: DumpKind::Full, .. } => {
                format!("a {gzipped}goroutine dump (debug=2)")
            }
            Format::GoroutineDump { kind: DumpKind::Grouped, .. } => {
                format!("a {gzipped}goroutine profile (debug=1)")
            }
            Format::GoroutineDump { kind: DumpKind::Crash, .. } => {
                format!("{gzipped}crash output").trim().into()
            }
            Format::GoTrace { .. } => "a Go execution trace".into(),
            Format::Other => "not a Go profile, dump or trace".into(),
        }
    }

    /// The header of pprof's top table.
    const TOP_HEADER: &str = "      flat  flat%   sum%        cum   cum%";

    fn profile_text(file: &Loaded, analysis: &pprof::PprofAnalysis, table: &TopTable) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}: {}", file.path, describe(&file.format));
        let types: Vec<String> =
            analysis.sample_types.iter().map(|t| format!("{} ({})", t.name, t.unit)).collect();
        let _ = writeln!(out, "Sample types: {}; default {}", types.join(", "), analysis.default_sample_type);
        let _ = writeln!(out, "Type: {}", analysis.sample_type);
        if analysis.duration_nanos > 0 {
            let _ = writeln!(out, "Duration: {}", label(analysis.duration_nanos, "nanoseconds"));
        }
        let _ = writeln!(out, "Total: {}", label(analysis.total, &table.unit));
        top_rows(&mut out, table);
        out
    }

    fn profile_diff_text(base: &Loaded, target: &Loaded, sample_type: &str, table: &TopTable) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} minus {}: {sample_type}", target.path, base.path);
        let _ = writeln!(
            out,
            "Percentages are of the base's total, {}; negative values are less in {}",
            label(table.total, &table.unit),
            target.path
        );
        top_rows(&mut out, table);
        out
    }

    /// pprof's summary line and the heaviest rows, as `go tool pprof -top` prints them.
    fn top_rows(out: &mut String, table: &TopTable) {
        let _ = writeln!(out, "{}", table.summary_line());
        let _ = writeln!(out, "{TOP_HEADER}");
        let rows = table.text_rows();
        for row in rows.iter().take(ROWS_SHOWN) {
            let _ = writeln!(out, "{row}");
        }
        if rows.len() > ROWS_SHOWN {
            let _ = writeln!(
                out,
                "({} more functions; --json lists the {} heaviest)",
                rows.len() - ROWS_SHOWN,
                pprof::TOP_ROWS
            );
        }
    }

    fn dump_text(file: &Loaded, dump: &DumpAnalysis) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}: {}", file.path, describe(&file.format));
        if let Some(panic) = &dump.panic {
            let _ = writeln!(out, "Crash: {}: {}", panic.kind, panic.message);
            if let Some(signal) = &panic.signal {
                let _ = writeln!(out, "Signal: {signal}");
            }
            match (panic.goroutine, &panic.top_function) {
                (Some(goroutine), Some(function)) => {
                    let _ = writeln!(out, "Goroutine {goroutine}, in {function}");
                }
                (Some(goroutine), None) => {
                    let _ = writeln!(out, "Goroutine {goroutine}");
                }
                (None, Some(function)) => {
                    let _ = writeln!(out, "In {function}");
                }
                (None, None) => {}
            }
        }
        let _ = writeln!(out, "Goroutines: {}", dump.goroutines);
        let mut states: Vec<(&String, &u64)> = dump.states.iter().collect();
        states.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let states: Vec<String> = states.iter().map(|(state, count)| format!("{count} {state}")).collect();
        let _ = writeln!(out, "States: {}", states.join(", "));
        if dump.truncated {
            let _ = writeln!(out, "The dump is cut short: what it holds is analysed.");
        }
        let _ = writeln!(out, "\nGroups by stack ({}, biggest first):", dump.groups_total);
        let rows: Vec<[String; 5]> = dump
            .groups
            .iter()
            .take(ROWS_SHOWN)
            .map(|group| {
                [
                    group.count.to_string(),
                    group.state.clone(),
                    wait(group.min_wait_minutes, group.max_wait_minutes),
                    group.top_function.clone(),
                    group.created_by.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(&mut out, ["count", "state", "wait", "top function", "created by"], &rows);
        if dump.groups_total > ROWS_SHOWN {
            let hidden: u64 = dump.groups.iter().skip(ROWS_SHOWN).map(|g| g.count).sum::<u64>()
                + dump.goroutines_in_omitted_groups;
            let _ = writeln!(
                out,
                "  ({} more groups, {hidden} goroutines; --json lists {})",
                dump.groups_total - ROWS_SHOWN,
                dump.groups.len()
            );
        }
        match dump.suspects.as_slice() {
            [] => {
                let _ = writeln!(out, "\nSuspects: none");
            }
            suspects => {
                let _ = writeln!(out, "\nSuspects:");
                for suspect in suspects {
                    suspect_text(&mut out, suspect, &dump.groups);
                }
            }
        }
        out
    }

    fn suspect_text(out: &mut String, suspect: &Suspect, groups: &[GroupView]) {
        let evidence = &suspect.evidence;
        let waited = evidence.max_wait_minutes.map(|m| format!(", up to {m} min")).unwrap_or_default();
        let _ = writeln!(out, "- {}", suspect.signature);
        let _ = writeln!(
            out,
            "  {} goroutines, {}{waited}, in {}",
            evidence.count, evidence.state, evidence.top_function
        );
        if let Some(user) = &evidence.user_function {
            let _ = writeln!(out, "  in the program's code: {user}");
        }
        if let Some(created_by) = &evidence.created_by {
            let _ = writeln!(out, "  created by {created_by}");
        }
        for holder in evidence.likely_holders.iter().filter_map(|g| groups.get(*g)) {
            let _ =
                writeln!(out, "  likely holder: {} goroutine(s) in {}", holder.count, holder.top_function);
        }
        for line in wrap(&suspect.explanation, TEXT_WIDTH - 2) {
            let _ = writeln!(out, "  {line}");
        }
        let _ =
            writeln!(out, "  cause: {}; playbooks: {}", suspect.cause_category, suspect.playbooks.join(", "));
    }

    fn dump_diff_text(base: &Loaded, target: &Loaded, diff: &DumpDiff) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} compared with {}", target.path, base.path);
        let change = diff.after_goroutines as i64 - diff.before_goroutines as i64;
        let _ = writeln!(
            out,
            "Goroutines: {} before, {} after ({change:+})",
            diff.before_goroutines, diff.after_goroutines
        );
        let changed: Vec<_> = diff.groups.iter().filter(|g| g.delta != 0).collect();
        let _ = writeln!(out, "\nGroups that grew or shrank ({}, biggest change first):", changed.len());
        let rows: Vec<[String; 6]> = changed
            .iter()
            .take(ROWS_SHOWN)
            .map(|group| {
                [
                    format!("{:+}", group.delta),
                    group.before.to_string(),
                    group.after.to_string(),
                    group.state.clone(),
                    group.top_function.clone(),
                    group.created_by.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(&mut out, ["change", "before", "after", "state", "top function", "created by"], &rows);
        if changed.len() > ROWS_SHOWN {
            let _ = writeln!(out, "  ({} more; --json lists every group)", changed.len() - ROWS_SHOWN);
        }
        match diff.groups.len() - changed.len() {
            0 => {}
            1 => {
                let _ = writeln!(out, "  (1 group unchanged)");
            }
            unchanged => {
                let _ = writeln!(out, "  ({unchanged} groups unchanged)");
            }
        }
        out
    }

    /// Columns padded to their widest cell; numbers (the first columns up
    /// to the first text one) aligned right, the last column left ragged.
    fn table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
        let numeric: Vec<bool> = (0..N)
            .map(|col| !rows.is_empty() && rows.iter().all(|row| row[col].parse::<i64>().is_ok()))
            .collect();
        let widths: Vec<usize> = (0..N)
            .map(|col| {
                rows.iter().map(|row| row[col].chars().count()).chain([header[col].len()]).max().unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| {
            let mut text = String::from(" ");
            for (col, cell) in cells.iter().enumerate() {
                let width = if col + 1 == N { 0 } else { widths[col] };
                if numeric[col] {
                    let _ = write!(text, " {cell:>width$}");
                } else {
                    let _ = write!(text, " {cell:<width$}");
                }
            }
            text.trim_end().to_owned()
        };
        let _ = writeln!(out, "{}", line(header.to_vec()));
        for row in rows {
            let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
        }
    }

    /// `1 min`, `2-5 min`, `<1 min`; empty when the dump shows no waits.
    pub(super) fn wait(min: Option<u32>, max: Option<u32>) -> String {
        let minutes = |m: u32| if m == 0 { "<1".to_string() } else { m.to_string() };
        match (min, max) {
            (_, None) => String::new(),
            (Some(min), Some(max)) if min != max => format!("{}-{} min", minutes(min), minutes(max)),
            (_, Some(max)) => format!("{} min", minutes(max)),
        }
    }

    /// Words joined into lines of at most `width` characters (a longer word stands alone).
    pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
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

    #[test]
    fn analyze_takes_a_file_and_its_options_in_any_order() {
        let request = |file: &str, json, sample_type: Option<&str>, base: Option<&str>| {
            Ok(Command::Analyze(analyze::Request {
                file: file.into(),
                json,
                sample_type: sample_type.map(String::from),
                base: base.map(String::from),
            }))
        };
        assert_eq!(parse("analyze cpu.pb.gz"), request("cpu.pb.gz", false, None, None));
        assert_eq!(
            parse("analyze --json --sample-type=samples cpu.pb.gz --base old.pb.gz"),
            request("cpu.pb.gz", true, Some("samples"), Some("old.pb.gz"))
        );
        assert_eq!(parse("analyze - --json"), request("-", true, None, None));
    }

    #[test]
    fn analyze_mistakes_are_explained() {
        let cases = [
            ("analyze", "analyze needs a FILE"),
            ("analyze --json", "analyze needs a FILE"),
            ("analyze a b", "analyze takes one FILE"),
            ("analyze a --base", "--base needs a value"),
            ("analyze a --sample-type", "--sample-type needs a value"),
            ("analyze a --sample-type=", "--sample-type needs a sample type's name"),
            ("analyze a --base b --base c", "--base is given twice"),
            ("analyze a --json=yes", "--json takes no value"),
            ("analyze a --top 5", "unknown option --top"),
        ];
        for (line, message) in cases {
            let err = parse(line).unwrap_err();
            assert!(err.contains(message), "{line}: {err}");
        }
    }

    #[test]
    fn waits_and_explanations_read_well_in_a_terminal() {
        assert_eq!(analyze::wait(None, None), "");
        assert_eq!(analyze::wait(Some(1), Some(1)), "1 min");
        assert_eq!(analyze::wait(Some(0), Some(0)), "<1 min");
        assert_eq!(analyze::wait(Some(0), Some(12)), "<1-12 min");
        assert_eq!(analyze::wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(analyze::wrap("a verylongword b", 4), ["a", "verylongword", "b"]);
        assert!(analyze::wrap("", 10).is_empty());
    }
}
