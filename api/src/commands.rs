//! The command-line verbs other than `serve`. Each returns a message for a non-zero exit rather
//! than panicking.

use chrono::Utc;
use hearth_application::{domain_upcaster, personal_data_policy};
use hearth_eventstore::EventStore;
use hearth_projections::build_from_log;

use crate::{
    auth::Caller,
    cli::{ReplayArgs, TokenArgs, VerifyArgs},
    config::StoreSettings,
    keys,
};

pub type CliResult = Result<(), String>;

pub fn token(args: TokenArgs) -> CliResult {
    let keys = keys::jwt_keys(&args.auth, &args.dir.data_dir)?;
    let caller = if args.operator {
        Caller::Operator
    } else {
        match (args.practice, args.staff) {
            (Some(practice), Some(staff)) => Caller::Staff { practice, staff },
            _ => return Err("give --operator, or both --practice and --staff".into()),
        }
    };
    if args.ttl_minutes <= 0 {
        return Err("--ttl-minutes must be positive".into());
    }
    let token = keys.mint(
        caller,
        Utc::now(),
        chrono::Duration::minutes(args.ttl_minutes),
    )?;
    println!("{token}");
    Ok(())
}

/// Opens the log and says on stderr which one, so a wrong directory or URL is never silent.
async fn open(settings: &StoreSettings) -> Result<EventStore, String> {
    let url = settings.database_url();
    keys::ensure_sqlite_dir(&url)?;
    let store = EventStore::connect(&url)
        .await
        .map_err(|e| format!("cannot open the log at {}: {e}", settings.describe()))?
        .with_upcaster(domain_upcaster());
    let store = keys::with_personal_data(store, settings)?;
    eprintln!("hearth: log {}", settings.describe());
    Ok(store)
}

/// For the read-only verbs: the log must exist already; nothing is created or migrated. Says on
/// stderr which log it opened, so a wrong directory or URL is never silent.
pub(crate) async fn open_existing(settings: &StoreSettings) -> Result<EventStore, String> {
    let store = EventStore::open_existing(&settings.database_url())
        .await
        .map_err(|e| format!("cannot open the log: {e}"))?
        .with_upcaster(domain_upcaster());
    let store = match keys::existing_master_keys(settings)? {
        Some(master) => store.with_personal_data(personal_data_policy(), master),
        None => {
            eprintln!("hearth: no master key (HEARTH_MASTER_KEY or the data dir's): personal values stay sealed");
            store
        }
    };
    eprintln!("hearth: log {}", settings.describe());
    Ok(store)
}

/// Exit 0 only when the log is intact.
pub async fn verify(args: VerifyArgs) -> CliResult {
    let key = crate::audit_cli::verifying_key(args.public_key.as_deref(), &args.store)?;
    let store = open_existing(&args.store).await?;
    if store.is_empty().await.map_err(|e| e.to_string())? {
        println!("the log is empty: there is nothing to verify");
        return Ok(());
    }
    let report = match &key {
        Some(key) => store.verify_signed(key).await,
        None => store.verify().await,
    }
    .map_err(|e| format!("verification could not run: {e}"))?;
    println!(
        "checked {} events in {} streams against {} seals",
        report.events_checked, report.streams_checked, report.seals_checked
    );
    match (report.problem, key) {
        (Some(problem), _) => Err(format!("TAMPERING DETECTED: {problem}")),
        (None, Some(key)) => {
            println!(
                "the log is intact: every event is signed by key {}",
                key.key_id()
            );
            Ok(())
        }
        (None, None) => {
            println!("hashes, chains and seals are intact, but signatures were NOT checked: no key here (give --public-key)");
            Ok(())
        }
    }
}

/// Who had access to what at `--until`, from the log alone (no read-model database involved).
pub async fn replay(args: ReplayArgs) -> CliResult {
    let store = open_existing(&args.store).await?;
    if store.is_empty().await.map_err(|e| e.to_string())? {
        println!("the log is empty: nobody had access to anything");
        return Ok(());
    }
    let model = build_from_log(&store)
        .await
        .map_err(|e| format!("cannot read the log: {e}"))?;
    let at = args.until;
    let mut practices: Vec<_> = model
        .practices
        .values()
        .filter(|p| args.practice.is_none_or(|id| p.id.0 == id))
        .collect();
    if practices.is_empty() && args.practice.is_some() {
        return Err("no such practice in the log".into());
    }
    practices.sort_by_key(|p| p.id);
    println!("access as of {}", at.to_rfc3339());
    for p in practices {
        println!("practice {} ({})", p.id, p.name);
        let mut households: Vec<_> = p
            .households
            .iter()
            .filter_map(|h| model.households.get(h))
            .filter(|h| h.exists_at(at))
            .collect();
        households.sort_by_key(|h| h.id);
        for h in households {
            println!("  household {} ({})", h.id, h.state.name);
            for s in model
                .staff_with_access(p.id, h.id, at)
                .map_err(|e| e.to_string())?
            {
                let path = s
                    .path
                    .map(|p| serde_json::to_string(&p).unwrap_or_default())
                    .unwrap_or_default();
                let actions: Vec<String> = s
                    .actions
                    .iter()
                    .map(|a| format!("{a:?}").to_lowercase())
                    .collect();
                println!(
                    "    {} {} via {} [{}]",
                    s.staff_id,
                    s.name,
                    path,
                    actions.join(",")
                );
            }
        }
    }
    Ok(())
}

/// One sync now, outside the server (e.g. from cron or by an operator).
pub async fn sync_xplan(args: crate::cli::SyncArgs) -> CliResult {
    let store = open(&args.store).await?;
    let cipher = crate::keys::token_cipher(&args.xplan, args.store.data_dir())?;
    let exec = hearth_application::CommandExecutor::new(store);
    // No server runs here, so XPLAN's redirect back (needed only to connect) has no listener.
    let unbound = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let xplan =
        crate::xplan::service(&args.xplan, unbound, exec, cipher).map_err(|e| e.to_string())?;
    let id = hearth_domain::IntegrationId(args.integration);
    let run = xplan
        .sync(id, "cli", chrono::Utc::now())
        .await
        .map_err(|e| format!("the sync did not run: {e}"))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&run).map_err(|e| e.to_string())?
    );
    match run.outcome {
        hearth_domain::integration::SyncOutcome::Completed => Ok(()),
        hearth_domain::integration::SyncOutcome::Failed => {
            Err("the sync stopped early; see errors above".into())
        }
        hearth_domain::integration::SyncOutcome::Interrupted => {
            Err("the sync was interrupted; the scheduler runs it again".into())
        }
    }
}

/// Serves the fake XPLAN until interrupted.
#[cfg(feature = "fake-xplan")]
pub async fn fake_xplan(args: crate::cli::FakeXplanArgs) -> CliResult {
    let settings = hearth_integrations::fake::FakeSettings::default();
    let fake = hearth_integrations::fake::FakeXplan::start(args.bind, settings.clone())
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    fake.seed(args.clients, args.policies);
    println!(
        "fake XPLAN on http://{} with {} clients (app id {}, client id {}, client secret {}); stop with Ctrl-C",
        fake.host(), args.clients, settings.app_id, settings.client_id, settings.client_secret
    );
    crate::shutdown::signal().await;
    Ok(())
}
