//! `kadr import MANIFEST|DIR`: bulk import of a catalogue through the import API.
//!
//! Every row is read and checked first (bad rows are reported with their line and reason,
//! the good ones go on). Each good row then becomes `POST /api/v1/videos/import` with its
//! external id — which the server keeps unique per user, so a row imported before answers
//! with that import instead of a second video — followed by its captions and thumbnail, the
//! tus upload of a local file (resumed where the server's offset says), and for URL imports
//! a wait until the server has fetched the file. Running the same manifest again therefore
//! skips what is done, resumes what was interrupted and waits on what is still fetching.
//! The report (one CSV line per row) is written at the end, also after Ctrl-C.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::import::api::Api;
use crate::import::report::{self, Outcome, Status};
use crate::import::row::{self, Settings};
use crate::import::{Entry, manifest, ytdlp};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A manifest (CSV with a header row, or JSON Lines: `.jsonl`/`.ndjson`), or a directory
    /// written by yt-dlp (`*.info.json` beside the media).
    pub input: PathBuf,
    /// Rows imported at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// The report to write (default: beside the manifest, NAME.report.csv).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Kadr's address.
    #[arg(long, env = "KADR_SERVER_URL", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A token from POST /api/v1/auth/token.
    #[arg(long, env = "KADR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Wait for every URL import to be fetched (or to fail) before its row is reported: the
    /// default.
    #[arg(long, overrides_with = "no_wait")]
    pub wait: bool,
    /// Hand URL imports to the server and go on: their rows are reported `queued`.
    #[arg(long, overrides_with = "wait")]
    pub no_wait: bool,
    /// Read and check the rows only; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Privacy of rows that give none: public, unlisted or private.
    #[arg(long, value_parser = ["public", "unlisted", "private"])]
    pub privacy: Option<String>,
    /// Channel (handle or id) of rows that give none (default: your first channel).
    #[arg(long)]
    pub channel: Option<String>,
    /// Bytes per upload request, in MiB (streamed from the disk).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub chunk_mib: u64,
    /// Allow plain http:// to a host other than this machine (the token travels unencrypted).
    #[arg(long)]
    pub insecure: bool,
    /// Import the new rows one by one, not as a batch (by default each run's new imports
    /// form one batch, which moderators review together).
    #[arg(long)]
    pub no_batch: bool,
}

/// Exit status: 0 when every row was imported, skipped or queued; 1 when a row failed;
/// 2 when nothing could be done (an unreadable manifest, a refused token).
pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let input = &args.input;
    let entries = if input.is_dir() {
        ytdlp::load(input)?
    } else if input.is_file() {
        manifest::load(input)?
    } else {
        bail!("{} is neither a manifest nor a directory", input.display());
    };
    let report_path = args
        .report
        .clone()
        .unwrap_or_else(|| report::default_path(input));
    let terminal = std::io::stdout().is_terminal();

    let mut outcomes: Vec<Option<Outcome>> = vec![None; entries.len()];
    let mut work = Vec::new();
    for (n, e) in entries.into_iter().enumerate() {
        match e {
            Entry::Bad(r) => {
                eprintln!(
                    "kadr: {} {}: {} ({})",
                    if input.is_dir() { "in" } else { "line" },
                    r.line,
                    r.message,
                    r.problem.code()
                );
                outcomes[n] = Some(Outcome {
                    line: r.line,
                    external_id: r.external_id,
                    video_id: None,
                    status: Status::Failed,
                    code: r.problem.code().to_owned(),
                    message: r.message,
                });
            }
            Entry::Good(mut item) => {
                if item.meta.privacy.is_none() {
                    item.meta.privacy = args.privacy.clone();
                }
                if item.meta.channel.is_none() {
                    item.meta.channel = args.channel.clone();
                }
                work.push((n, item));
            }
        }
    }
    if args.dry_run {
        let bad = outcomes.iter().flatten().count();
        println!(
            "{} rows ready to import, {bad} bad{}",
            work.len(),
            if bad > 0 {
                " (see above); nothing was sent"
            } else {
                "; nothing was sent"
            }
        );
        return Ok(if bad > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }

    let Some(token) = args.token.clone().filter(|t| !t.is_empty()) else {
        bail!("no token: give --token or set KADR_TOKEN");
    };
    let server_url = crate::upload_cli::server_url(&args.server, args.insecure)?;
    let api = Api::new(server_url, token)?;
    let mut batch = None;
    if !work.is_empty() {
        api.whoami()
            .await
            .with_context(|| format!("cannot import into {}", api.server))?;
        if !args.no_batch {
            let name = args
                .input
                .file_name()
                .map(|n| n.to_string_lossy().chars().take(200).collect::<String>())
                .unwrap_or_default();
            batch = Some(api.create_batch(&name).await.map_err(|f| {
                anyhow::anyhow!("cannot start a batch: {} ({})", f.message, f.code)
            })?);
        }
    }

    let multi = MultiProgress::with_draw_target(if terminal {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let overall = multi.add(ProgressBar::new(work.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    if terminal {
        overall.enable_steady_tick(Duration::from_millis(200));
    }
    let ctx = Arc::new(Ctx {
        api,
        settings: Settings {
            wait: !args.no_wait,
            chunk: args.chunk_mib * 1024 * 1024,
            batch,
        },
        multi: multi.clone(),
        terminal,
    });

    let pending: HashMap<usize, (String, String)> = work
        .iter()
        .map(|(n, i)| (*n, (i.line.clone(), i.external_id.clone())))
        .collect();
    let mut tally = Tally::default();
    let mut stream = futures::stream::iter(work)
        .map(|(n, item)| {
            let ctx = ctx.clone();
            let overall = overall.clone();
            async move {
                let bar = ctx
                    .multi
                    .insert_before(&overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix:.bold} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(short(&item.external_id, 48));
                if ctx.terminal {
                    bar.enable_steady_tick(Duration::from_millis(200));
                }
                let outcome = row::one(&ctx.api, &ctx.settings, &item, &bar).await;
                bar.finish_and_clear();
                ctx.multi.remove(&bar);
                (n, outcome)
            }
        })
        .buffer_unordered(usize::from(args.concurrency));
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let mut interrupted = false;
    loop {
        tokio::select! {
            next = stream.next() => {
                let Some((n, outcome)) = next else { break };
                tally.add(outcome.status);
                if outcome.status == Status::Failed {
                    ctx.say(format!(
                        "kadr: {} {}: {} ({})",
                        if input.is_dir() { "in" } else { "line" },
                        outcome.line, outcome.message, outcome.code
                    ));
                }
                outcomes[n] = Some(outcome);
                overall.inc(1);
                overall.set_message(tally.to_string());
            }
            _ = &mut interrupt => {
                interrupted = true;
                break;
            }
        }
    }
    drop(stream);
    overall.finish_and_clear();
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .enumerate()
        .map(|(n, o)| {
            o.unwrap_or_else(|| {
                let (line, external_id) = pending.get(&n).cloned().unwrap_or_default();
                Outcome {
                    line,
                    external_id: Some(external_id),
                    video_id: None,
                    status: Status::Failed,
                    code: "interrupted".to_owned(),
                    message: "interrupted before it was done; run the same command again to \
                              resume"
                        .to_owned(),
                }
            })
        })
        .collect();
    let mut tally = Tally::default();
    for o in &outcomes {
        tally.add(o.status);
    }
    report::write(&report_path, &outcomes)?;
    println!("{tally} — see {}", report_path.display());
    if interrupted {
        eprintln!("kadr: interrupted; run the same command again to resume");
        return Ok(ExitCode::from(130));
    }
    Ok(if tally.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, Default)]
struct Tally {
    imported: usize,
    skipped: usize,
    queued: usize,
    failed: usize,
}

impl Tally {
    fn add(&mut self, s: Status) {
        match s {
            Status::Imported => self.imported += 1,
            Status::Skipped => self.skipped += 1,
            Status::Queued => self.queued += 1,
            Status::Failed => self.failed += 1,
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} imported, {} skipped", self.imported, self.skipped)?;
        if self.queued > 0 {
            write!(f, ", {} queued", self.queued)?;
        }
        write!(f, ", {} failed", self.failed)
    }
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

struct Ctx {
    api: Api,
    settings: Settings,
    multi: MultiProgress,
    terminal: bool,
}

impl Ctx {
    /// A line for the terminal above the bars, or on stderr when there are none.
    fn say(&self, line: String) {
        if self.terminal {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }
}
