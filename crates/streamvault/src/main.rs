use std::process::ExitCode;

use clap::Parser;
use streamvault::cli::{Cli, Command, ConfigCommand, JobsCommand, MediaCommand, Overrides};
use streamvault::{logging, server};
use streamvault_config::Config;
use streamvault_metadata::MetadataStore;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = match &cli.command {
        Command::Serve(o) | Command::Migrate(o) => o,
        Command::Config { command: ConfigCommand::Check(o) } => o,
        Command::Jobs { command } => command.overrides(),
        Command::Media { command: MediaCommand::Reprocess { overrides, .. } } => overrides,
    };
    let config = match load(&cli, overrides) {
        Ok(c) => c,
        Err(line) => {
            eprintln!("error: {line}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Config { .. } => {
            for (key, value) in config.describe() {
                println!("{key}={value}");
            }
            ExitCode::SUCCESS
        }
        Command::Migrate(_) => run(config, migrate),
        Command::Jobs { command } => run(config, move |c| jobs(c, command)),
        Command::Media { command } => run(config, move |c| media(c, command)),
        Command::Serve(_) => run(config, serve),
    }
}

fn load(cli: &Cli, overrides: &Overrides) -> Result<Config, String> {
    streamvault_config::load(cli.config.as_deref(), overrides.to_layer()).map_err(|e| e.to_string())
}

fn run<F: Future<Output = anyhow::Result<()>>>(config: Config, f: impl FnOnce(Config) -> F) -> ExitCode {
    logging::init(&config.log, config.log_format);
    // The blocking pool serves file reads and password hashing. Tokio's default of 512 threads
    // lets a thousand slow streams grow a thread (and a malloc arena) each; a smaller pool
    // queues the work instead, and keeps memory flat.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(64).build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(f(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let store = MetadataStore::connect(&config.database_url, 1).await?;
    store.migrate().await?;
    for (name, applied) in store.migration_status().await? {
        println!("{} {name}", if applied { "applied" } else { "pending" });
    }
    store.close().await;
    Ok(())
}

async fn jobs(config: Config, command: JobsCommand) -> anyhow::Result<()> {
    use streamvault_core::ports::JobAdmin;
    let store = MetadataStore::connect(&config.database_url, 2).await?;
    store.migrate().await?;
    let admin = streamvault_metadata::SqlJobQueue::new(store.clone());
    let parse = job_id;
    match command {
        JobsCommand::List { state, limit, .. } => {
            println!("{:<36}  {:<14} {:<8} {:>8}  {:<25}  last_error", "id", "kind", "state", "attempts", "run_at");
            for j in admin.list(state, limit).await? {
                let attempts = format!("{}/{}", j.attempts, j.max_attempts);
                let err = j.last_error.unwrap_or_default().replace('\n', " ");
                println!(
                    "{:<36}  {:<14} {:<8} {:>8}  {:<25}  {err}",
                    j.id,
                    j.kind,
                    j.state,
                    attempts,
                    j.run_at.to_rfc3339()
                );
            }
        }
        JobsCommand::Show { id, .. } => match admin.get(parse(&id)?).await? {
            Some(j) => println!("{}", serde_json::to_string_pretty(&j)?),
            None => anyhow::bail!("no job {id}"),
        },
        JobsCommand::Retry { id, .. } => {
            if !admin.retry(parse(&id)?).await? {
                anyhow::bail!("no dead or queued job {id}");
            }
            println!("job {id} is queued to run now");
        }
        JobsCommand::Purge { state, .. } => println!("purged {} {state} jobs", admin.purge(state).await?),
    }
    store.close().await;
    Ok(())
}

async fn media(config: Config, command: MediaCommand) -> anyhow::Result<()> {
    use streamvault_core::ports::VideoRepo;
    let MediaCommand::Reprocess { ids, unprocessed, .. } = command;
    let store = MetadataStore::connect(&config.database_url, 2).await?;
    store.migrate().await?;
    let videos = streamvault_metadata::SqlVideoRepo::new(store.clone());
    let mut wanted = Vec::new();
    for id in &ids {
        wanted.push(
            id.parse::<streamvault_core::ids::VideoId>().map_err(|_| anyhow::anyhow!("{id:?} is not a video id"))?,
        );
    }
    if ids.is_empty() && !unprocessed {
        anyhow::bail!("name videos by id, or pass --unprocessed");
    }
    if unprocessed {
        wanted.extend(videos.unprocessed(100_000).await?);
    }
    let mut queued = 0;
    for id in wanted {
        // The same job the upload queues: the worker goes probe → stills → transcode.
        if videos.restart_processing(id, &streamvault_core::media::Media::first_job(id)).await? {
            queued += 1;
        } else {
            eprintln!("no video {id} with an original");
        }
    }
    println!("queued {queued} videos for processing");
    store.close().await;
    Ok(())
}

fn job_id(id: &str) -> anyhow::Result<streamvault_core::ids::JobId> {
    id.parse().map_err(|_| anyhow::anyhow!("{id:?} is not a job id"))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let running = server::start(config).await?;
    // The one line a person running `cargo run -- serve` needs.
    println!("streamvault is serving {} on {}", running.app.config.roles, running.url());
    shutdown_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    running.stop().await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
