//! `kadr`: one binary, one role per subcommand.

mod answer;
mod import;
mod import_cli;
mod upload_cli;
mod upload_direct;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kadr_config::{Config, ConfigError, Secret};
use kadr_db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use kadr_http::AppContext;
use kadr_runtime::{shutdown, telemetry};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(name = "kadr", version, about = "Kadr: a self-hosted video platform")]
struct Cli {
    /// A TOML file layered over config/default.toml (env vars KADR_* still win).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Everything in one process: upload API, catalog API and web UI on one port, the worker,
    /// and (without database.url) an embedded Postgres in <data-dir>/postgres.
    All {
        /// Address to serve on (server.listen).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Data directory for the embedded Postgres and local media (data_dir).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// The upload service on its own (upload_api.listen).
    UploadApi,
    /// The catalog and streaming service on its own (api.listen).
    Api,
    /// The transcoding daemon (health and metrics on worker.listen).
    Worker,
    /// Database schema migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
        /// Data directory of the embedded Postgres, used when database.url is not set.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Upload a video file to a Kadr server (resumable; prints the video id).
    Upload(upload_cli::UploadArgs),
    /// Import a catalogue into a Kadr server: a manifest (CSV or JSON Lines) or a directory
    /// written by yt-dlp. Re-running it skips what is done and resumes what was interrupted;
    /// a report (CSV) says what became of every row.
    Import(import_cli::ImportArgs),
    /// Print the OpenAPI document `kadr all` serves at /api/openapi.json (the web UI's types
    /// are generated from it).
    Openapi,
    /// Transcode a file into an HLS ladder in a directory, as the worker does (for checks and
    /// benchmarks; needs no server). The MP4 download (720p at most) and the audio-only
    /// rendition with its M4A are made unless turned off.
    Transcode {
        input: PathBuf,
        out_dir: PathBuf,
        /// Make no MP4 download.
        #[arg(long)]
        no_mp4_download: bool,
        /// Make no audio-only rendition and no M4A.
        #[arg(long)]
        no_audio_only: bool,
        /// Make no hover preview.
        #[arg(long)]
        no_preview: bool,
    },
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back migrations (the last one unless --steps is given).
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        // A client: it needs no server configuration.
        Command::Upload(args) => return client(args),
        Command::Import(args) => return import_client(args),
        Command::Transcode {
            input,
            out_dir,
            no_mp4_download,
            no_audio_only,
            no_preview,
        } => {
            let settings = kadr_media::transcode::Settings {
                mp4_download_max_height: (!no_mp4_download).then_some(720),
                audio_only: !no_audio_only,
                preview: !no_preview,
                ..Default::default()
            };
            return transcode_dir(&input, &out_dir, &settings);
        }
        Command::Openapi => {
            let doc = kadr_catalog::openapi::merged(kadr_upload_api::openapi());
            return match doc.to_json() {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kadr: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    let config = match load_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kadr: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::Config = cli.command {
        return match config.to_redacted_toml() {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kadr: {e}");
                ExitCode::FAILURE
            }
        };
    }
    telemetry::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kadr: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("kadr: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn transcode_dir(
    input: &std::path::Path,
    out: &std::path::Path,
    settings: &kadr_media::transcode::Settings,
) -> ExitCode {
    use kadr_media::{hls, plan, probe, transcode};
    let run = || -> Result<usize, kadr_media::MediaError> {
        let p = probe::probe(input)?;
        probe::check_limits(&p, &probe::Limits::default())?;
        let (w, h) = p.video.display_size();
        let ladder = plan::plan(w, h, p.duration_secs, &plan::DEFAULT_LADDER);
        let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = transcode::transcode(input, &p, &ladder.rungs, settings, out, &cancel, &|_| {})?;
        let mut renditions = done.rungs.clone();
        renditions.extend(done.audio);
        hls::write_playlists(out, &renditions, p.video.fps)?;
        Ok(done.rungs.len())
    };
    match run() {
        Ok(n) => {
            eprintln!("kadr: {n} rungs in {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kadr: {e}");
            ExitCode::FAILURE
        }
    }
}

fn client(args: upload_cli::UploadArgs) -> ExitCode {
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(upload_cli::run(args)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kadr: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `kadr import`: its own exit status (1 when a row failed), 2 when it could not run.
fn import_client(args: import_cli::ImportArgs) -> ExitCode {
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(import_cli::run(args)));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kadr: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config, ConfigError> {
    let mut config = Config::load(cli.config.as_deref())?;
    match &cli.command {
        Command::All { listen, data_dir } => {
            if let Some(l) = listen {
                config.server.listen = *l;
            }
            if let Some(d) = data_dir {
                config.data_dir = d.clone();
            }
        }
        Command::Migrate {
            data_dir: Some(d), ..
        } => config.data_dir = d.clone(),
        _ => {}
    }
    config.validate()?;
    Ok(config)
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let shutdown = shutdown::on_signals();
    tracing::debug!(config = ?config.redacted(), "effective configuration");
    match command {
        Command::All { .. } => run_all(config, shutdown).await,
        Command::UploadApi => Ok(kadr_upload_api::run(config, shutdown).await?),
        Command::Api => Ok(kadr_catalog::run(config, shutdown).await?),
        Command::Worker => Ok(kadr_worker::run(config, shutdown).await?),
        Command::Migrate { action, .. } => migrate(config, action).await,
        Command::Config
        | Command::Upload(_)
        | Command::Import(_)
        | Command::Transcode { .. }
        | Command::Openapi => Ok(()),
    }
}

/// Uses the configured database, or starts the embedded one when none is configured.
async fn database(config: &mut Config) -> anyhow::Result<Option<EmbeddedPostgres>> {
    if config.database.url.is_some() {
        return Ok(None);
    }
    let pg = EmbeddedPostgres::start(&config.data_dir, EmbeddedOptions::default()).await?;
    tracing::info!(pgdata = %pg.pgdata().display(), "using the embedded Postgres");
    config.database.url = Some(Secret::new(pg.url()));
    Ok(Some(pg))
}

const POSTGRES_STOP_DEADLINE: Duration = Duration::from_secs(5);

/// Restarts of the embedded Postgres in a row (each after a longer pause) before `kadr all`
/// gives up and exits non-zero for its supervisor.
const POSTGRES_RESTARTS: u32 = 6;

async fn run_all(mut config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut embedded = database(&mut config).await?;
    let data_dir = config.data_dir.clone();
    let serve = serve_all(config, shutdown.clone());
    tokio::pin!(serve);
    let result = tokio::select! {
        served = &mut serve => served,
        gave_up = supervise_postgres(&mut embedded, &data_dir, &shutdown) => {
            shutdown.cancel();
            let _ = serve.await;
            Err(gave_up)
        }
    };
    if let Some(pg) = embedded {
        pg.stop(POSTGRES_STOP_DEADLINE).await?;
    }
    result
}

/// Keeps the embedded Postgres running: when it exits (killed, crashed) it is started again on
/// the same data (the pools reconnect; requests meanwhile answer 503). Returns only when it
/// cannot be started again.
async fn supervise_postgres(
    embedded: &mut Option<EmbeddedPostgres>,
    data_dir: &std::path::Path,
    shutdown: &CancellationToken,
) -> anyhow::Error {
    loop {
        let how = match embedded.as_mut() {
            Some(pg) => pg.exited().await,
            None => std::future::pending().await,
        };
        // A Ctrl-C reaches Postgres too (one process group): not a crash.
        tokio::time::sleep(Duration::from_millis(500)).await;
        if shutdown.is_cancelled() {
            *embedded = None;
            return std::future::pending().await;
        }
        tracing::error!(status = %how, "the embedded Postgres exited; starting it again");
        let mut tries = 0;
        loop {
            match EmbeddedPostgres::start(data_dir, EmbeddedOptions::default()).await {
                Ok(pg) => {
                    tracing::info!("the embedded Postgres is running again");
                    *embedded = Some(pg);
                    break;
                }
                Err(e) if tries + 1 < POSTGRES_RESTARTS => {
                    tries += 1;
                    let wait = Duration::from_millis(500 << tries);
                    tracing::warn!(error = %e, ?wait, "the embedded Postgres did not start; trying again");
                    tokio::select! {
                        _ = shutdown.cancelled() => return std::future::pending().await,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                Err(e) => {
                    return anyhow::anyhow!(
                        "the embedded Postgres exited ({how}) and could not be started again: {e}"
                    );
                }
            }
        }
    }
}

async fn serve_all(mut config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let listen = config.server.listen;
    // Bound first: with port 0 the worker's absolute links (in mail) need the port chosen.
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    config.server.listen = listener.local_addr()?;
    {
        let migrations = migrations_pool(&config).await?;
        kadr_migration::up(&migrations).await?;
        let _ = migrations.close().await;
    }
    let ctx = AppContext::open(config).await?;
    let db = ctx.db.clone();
    kadr_upload_api::prepare(&ctx).await;
    let worker = kadr_worker::start_daemon(ctx.rt.clone(), shutdown.clone());
    let (api, views) = kadr_catalog::start(&ctx, shutdown.clone())?;
    let api = api.with_doc(kadr_upload_api::openapi());
    let server = kadr_http::serve(listener, ctx, move |cfg| {
        // The catalog first: its media routes (segments) lead its table.
        kadr_catalog::configure(cfg, &api);
        kadr_upload_api::configure(cfg);
    })?;
    let served = server.run_until(shutdown).await;
    let _ = views.await;
    let _ = worker.await;
    let _ = db.close().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// A pool for migrations (no statement timeout) on the configured database.
async fn migrations_pool(config: &Config) -> anyhow::Result<kadr_db::DatabaseConnection> {
    let url = config
        .database
        .url
        .as_ref()
        .map(Secret::expose)
        .unwrap_or_default();
    Ok(kadr_db::connect_for_migrations(url, &config.database).await?)
}

async fn migrate(mut config: Config, action: MigrateAction) -> anyhow::Result<()> {
    let embedded = database(&mut config).await?;
    let result = async {
        let db = migrations_pool(&config).await?;
        match action {
            MigrateAction::Up => {
                kadr_migration::up(&db).await?;
                println!("migrations applied");
            }
            MigrateAction::Down { steps } => {
                kadr_migration::down(&db, Some(steps)).await?;
                println!("rolled back {steps} migration(s)");
            }
            MigrateAction::Status => {
                for (name, applied) in kadr_migration::status(&db).await? {
                    println!("{} {name}", if applied { "applied" } else { "pending" });
                }
            }
        }
        db.close().await?;
        anyhow::Ok(())
    }
    .await;
    if let Some(pg) = embedded {
        pg.stop(POSTGRES_STOP_DEADLINE).await?;
    }
    result
}
