//! `debrief`: configuration -> telemetry -> the command (serving by default).

use std::process::ExitCode;

use debrief::{cli, config::Config, telemetry};

fn main() -> ExitCode {
    debrief::install_tls_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::Command::parse(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("debrief: {message}");
            return ExitCode::from(2);
        }
    };
    // Analysing a file needs neither the configuration nor a database.
    if let cli::Command::Analyze(request) = &command {
        return cli::analyze::run(request);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("debrief: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("debrief: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("debrief: {err:#}");
            ExitCode::FAILURE
        }
    }
}
