use clap::Parser;
use hearth_api::{
    audit_cli,
    cli::{Cli, Command, ServeArgs},
    commands, config,
    startup::Application,
    telemetry,
};

// glibc's malloc was a tenth of the CPU time of an access check under load (perf); mimalloc
// keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    telemetry::init();
    if let Some(path) = std::env::var_os("HEARTH_CONFIG") {
        if let Err(e) = config::load_config_file(std::path::Path::new(&path)) {
            eprintln!("hearth: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    let cli = Cli::parse();
    let outcome = match cli
        .command
        .unwrap_or_else(|| Command::Serve(Box::new(ServeArgs::parse_from(["hearth"]))))
    {
        Command::Serve(args) => serve(*args).await,
        Command::Token(args) => commands::token(args),
        Command::Verify(args) => commands::verify(args).await,
        Command::Replay(args) => commands::replay(args).await,
        Command::PublicKey(args) => audit_cli::public_key(args),
        Command::Checkpoint(args) => audit_cli::checkpoint(args).await,
        Command::Prove(args) => audit_cli::prove(args).await,
        Command::Export(args) => audit_cli::export(args).await,
        Command::Audit(args) => audit_cli::audit(args),
        Command::SyncXplan(args) => commands::sync_xplan(args).await,
        Command::Keys(args) => hearth_api::keys_cli::run(args).await,
        #[cfg(feature = "fake-xplan")]
        Command::FakeXplan(args) => commands::fake_xplan(args).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hearth: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let app = Application::build(args.settings)
        .await
        .map_err(|e| format!("cannot start: {e:#}"))?;
    tracing::info!(address = %app.address(), "Hearth is listening");
    app.run_until_stopped().await.map_err(|e| e.to_string())
}
