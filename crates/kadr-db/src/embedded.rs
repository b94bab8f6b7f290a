//! A Postgres cluster run by Kadr itself from the system's binaries.
//!
//! `kadr all` uses it when no `database.url` is configured, and the test harness uses it for
//! throwaway clusters. The cluster lives in one directory, listens only on a unix socket inside
//! that directory (no TCP port is taken), and is stopped when Kadr stops. When Kadr runs as
//! root, Postgres (which refuses root) runs as the `postgres` system account.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Gid, Pid, Uid, User, chown};
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;
use tokio::process::{Child, Command};

/// The role and database created in every embedded cluster.
pub const DB_USER: &str = "kadr";
pub const DB_NAME: &str = "kadr";
const PORT: u16 = 5432;
/// Longest unix socket path the kernel accepts (sun_path is 108 bytes, NUL included).
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) were not found in PATH, `pg_config --bindir` \
         or /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `sudo apt-get install postgresql`) \
         or set database.url (KADR_DATABASE__URL) to an existing server"
    )]
    BinariesNotFound,
    #[error(
        "running as root, Postgres needs an unprivileged account and `postgres` does not exist: {0}"
    )]
    NoServiceAccount(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("initdb failed ({status}): {output}")]
    Initdb { status: String, output: String },
    #[error("postgres did not become ready within {secs} s; last log lines:\n{log}")]
    NotReady { secs: u64, log: String },
    #[error("postgres exited during start-up ({status}); last log lines:\n{log}")]
    Exited { status: String, log: String },
    #[error("database set-up failed: {0}")]
    Setup(#[from] sqlx::Error),
    #[error("{0}")]
    Other(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let what = what.into();
    move |source| EmbeddedError::Io { what, source }
}

/// Options of a cluster start.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedOptions {
    /// Trade durability for speed (fsync off, initdb without sync): for throwaway test clusters.
    pub throwaway: bool,
}

/// A running Postgres cluster owned by this process.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    pgdata: PathBuf,
    socket_dir: PathBuf,
    child: Option<Child>,
    url: String,
}

/// Where the server binaries are.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    pub bindir: PathBuf,
}

impl PgBinaries {
    /// Looks in PATH, then `pg_config --bindir`, then `/usr/lib/postgresql/<newest>/bin`.
    pub fn find() -> Result<PgBinaries, EmbeddedError> {
        Self::find_in(Self::candidates())
    }

    /// The first directory of `candidates` that holds `initdb` and `postgres`.
    pub fn find_in(candidates: Vec<PathBuf>) -> Result<PgBinaries, EmbeddedError> {
        candidates
            .into_iter()
            .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
            .map(|bindir| PgBinaries { bindir })
            .ok_or(EmbeddedError::BinariesNotFound)
    }

    fn candidates() -> Vec<PathBuf> {
        let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        if let Ok(out) = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
            && out.status.success()
        {
            candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
        if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
            let mut versions: Vec<(u32, PathBuf)> = entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    Some((v, e.path().join("bin")))
                })
                .collect();
            versions.sort_by_key(|v| std::cmp::Reverse(v.0));
            candidates.extend(versions.into_iter().map(|(_, p)| p));
        }
        candidates
    }

    fn command(&self, name: &str, account: Option<&Account>) -> Command {
        let mut cmd = Command::new(self.bindir.join(name));
        if let Some(a) = account {
            cmd.uid(a.uid.as_raw()).gid(a.gid.as_raw());
            cmd.env("HOME", &a.home);
        }
        cmd.env("LC_ALL", "C.UTF-8");
        cmd
    }
}

/// The unprivileged account Postgres runs as when we are root.
#[derive(Debug, Clone)]
struct Account {
    uid: Uid,
    gid: Gid,
    home: PathBuf,
}

fn service_account() -> Result<Option<Account>, EmbeddedError> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres") {
        Ok(Some(u)) => Ok(Some(Account {
            uid: u.uid,
            gid: u.gid,
            home: u.dir,
        })),
        Ok(None) => Err(EmbeddedError::NoServiceAccount(
            "create it (`useradd --system postgres`) or run kadr as a normal user".to_owned(),
        )),
        Err(e) => Err(EmbeddedError::NoServiceAccount(e.to_string())),
    }
}

impl EmbeddedPostgres {
    /// Starts (initialising on first use) the cluster in `<data_dir>/postgres`.
    pub async fn start(
        data_dir: &Path,
        options: EmbeddedOptions,
    ) -> Result<EmbeddedPostgres, EmbeddedError> {
        let bins = PgBinaries::find()?;
        let account = service_account()?;
        std::fs::create_dir_all(data_dir)
            .map_err(io(format!("creating {}", data_dir.display())))?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(io(format!("resolving {}", data_dir.display())))?;
        let pgdata = data_dir.join("postgres");
        if account.is_some() {
            // The service account must be able to reach its directory.
            let meta = std::fs::metadata(&data_dir).map_err(io("reading data dir permissions"))?;
            let mode = meta.permissions().mode();
            if mode & 0o001 == 0 {
                std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(mode | 0o711))
                    .map_err(io("making the data dir traversable"))?;
            }
        }

        if !pgdata.join("PG_VERSION").is_file() {
            initdb(&bins, account.as_ref(), &pgdata, &options).await?;
        }
        clear_stale_pid(&pgdata).await?;

        let socket_dir = socket_dir_for(&pgdata, account.as_ref())?;
        let log_path = data_dir.join("postgres.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io(format!("opening {}", log_path.display())))?;
        let log_err = log.try_clone().map_err(io("cloning the log handle"))?;

        let mut cmd = bins.command("postgres", account.as_ref());
        cmd.arg("-D")
            .arg(&pgdata)
            .arg("-c")
            .arg("listen_addresses=")
            .arg("-c")
            .arg(format!("unix_socket_directories={}", socket_dir.display()))
            .arg("-c")
            .arg(format!("port={PORT}"));
        if options.throwaway {
            for setting in [
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
            ] {
                cmd.arg("-c").arg(setting);
            }
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .kill_on_drop(true);
        let child = cmd.spawn().map_err(io("starting postgres"))?;
        tracing::info!(pgdata = %pgdata.display(), socket = %socket_dir.display(), "embedded postgres starting");

        let url = connection_url(&socket_dir, DB_NAME);
        let mut pg = EmbeddedPostgres {
            pgdata,
            socket_dir,
            child: Some(child),
            url,
        };
        pg.wait_ready(&log_path).await?;
        pg.ensure_database().await?;
        Ok(pg)
    }

    /// URL of the `kadr` database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// URL of another database in the same cluster.
    pub fn url_for(&self, database: &str) -> String {
        connection_url(&self.socket_dir, database)
    }

    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// Waits until the postmaster exits (killed, crashed) and says how; never returns while
    /// it runs, nor for a cluster already stopped.
    pub async fn exited(&mut self) -> String {
        match self.child.as_mut() {
            Some(child) => {
                let status = child.wait().await;
                self.child = None;
                match status {
                    Ok(s) => s.to_string(),
                    Err(e) => e.to_string(),
                }
            }
            None => std::future::pending().await,
        }
    }

    /// Process id of the postmaster.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    async fn wait_ready(&mut self, log_path: &Path) -> Result<(), EmbeddedError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let opts = self.connect_options("postgres");
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(EmbeddedError::Exited {
                    status: status.to_string(),
                    log: log_tail(log_path),
                });
            }
            if opts.connect().await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(EmbeddedError::NotReady {
                    secs: 60,
                    log: log_tail(log_path),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(PORT)
            .username(DB_USER)
            .database(database)
            .disable_statement_logging()
    }

    async fn ensure_database(&self) -> Result<(), EmbeddedError> {
        create_database_if_missing(self.connect_options("postgres"), DB_NAME).await
    }

    /// Creates another database in this cluster (used by tests).
    pub async fn create_database(&self, name: &str) -> Result<String, EmbeddedError> {
        create_database_if_missing(self.connect_options("postgres"), name).await?;
        Ok(self.url_for(name))
    }

    /// Fast shutdown: waits for Postgres to exit, forcing it after `deadline`.
    pub async fn stop(mut self, deadline: Duration) -> Result<(), EmbeddedError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGINT);
        }
        match tokio::time::timeout(deadline, child.wait()).await {
            Ok(res) => {
                res.map_err(io("waiting for postgres"))?;
                tracing::info!("embedded postgres stopped");
                Ok(())
            }
            Err(_) => {
                tracing::warn!("embedded postgres did not stop in time, sending SIGQUIT");
                if let Some(pid) = child.id() {
                    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGQUIT);
                }
                if tokio::time::timeout(Duration::from_secs(3), child.wait())
                    .await
                    .is_err()
                {
                    let _ = child.kill().await;
                }
                Ok(())
            }
        }
    }
}

impl Drop for EmbeddedPostgres {
    /// Immediate shutdown when dropped without `stop` (a test ending, a failed start-up).
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGQUIT);
        }
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.start_kill();
    }
}

pub(crate) async fn create_database_if_missing(
    opts: PgConnectOptions,
    name: &str,
) -> Result<(), EmbeddedError> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(EmbeddedError::Other(format!("bad database name {name:?}")));
    }
    let mut conn = opts.connect().await?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await?;
    if exists.is_none() {
        // The name was checked above to be a plain identifier.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

async fn initdb(
    bins: &PgBinaries,
    account: Option<&Account>,
    pgdata: &Path,
    options: &EmbeddedOptions,
) -> Result<(), EmbeddedError> {
    // A directory left by an interrupted initdb is started over.
    if pgdata.exists() {
        std::fs::remove_dir_all(pgdata)
            .map_err(io(format!("removing partial cluster {}", pgdata.display())))?;
    }
    std::fs::create_dir_all(pgdata).map_err(io(format!("creating {}", pgdata.display())))?;
    std::fs::set_permissions(pgdata, std::fs::Permissions::from_mode(0o700))
        .map_err(io("setting cluster directory permissions"))?;
    if let Some(a) = account {
        chown(pgdata, Some(a.uid), Some(a.gid))
            .map_err(|e| io("handing the cluster directory to postgres")(e.into()))?;
    }
    tracing::info!(pgdata = %pgdata.display(), "initialising embedded postgres cluster");
    let mut cmd = bins.command("initdb", account);
    cmd.arg("-D")
        .arg(pgdata)
        .arg("-U")
        .arg(DB_USER)
        .arg("--auth=trust")
        .arg("--encoding=UTF8")
        .arg("--locale=C.UTF-8");
    if options.throwaway {
        cmd.arg("--no-sync");
    }
    let out = cmd.output().await.map_err(io("running initdb"))?;
    if !out.status.success() {
        let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stdout));
        let _ = std::fs::remove_dir_all(pgdata);
        return Err(EmbeddedError::Initdb {
            status: out.status.to_string(),
            output: output.trim().to_owned(),
        });
    }
    Ok(())
}

/// A `postmaster.pid` left by a crash: a postmaster still running on this directory (orphaned
/// when Kadr was killed) is shut down; a file naming a dead or foreign process is removed.
async fn clear_stale_pid(pgdata: &Path) -> Result<(), EmbeddedError> {
    let pid_file = pgdata.join("postmaster.pid");
    let Ok(text) = std::fs::read_to_string(&pid_file) else {
        return Ok(());
    };
    let Some(pid) = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
    else {
        std::fs::remove_file(&pid_file).map_err(io("removing unreadable postmaster.pid"))?;
        return Ok(());
    };
    if is_postmaster_of(pid, pgdata) {
        tracing::warn!(
            pid,
            "a postgres from an earlier run is still running on this cluster; stopping it"
        );
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
        let until = Instant::now() + Duration::from_secs(15);
        while process_alive(pid) && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if process_alive(pid) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        if process_alive(pid) {
            return Err(EmbeddedError::Other(format!(
                "postgres (pid {pid}) from an earlier run is still running on {} and would not stop",
                pgdata.display()
            )));
        }
    }
    if pid_file.exists() {
        tracing::info!(pid, "removing stale postmaster.pid");
        std::fs::remove_file(&pid_file).map_err(io("removing stale postmaster.pid"))?;
    }
    Ok(())
}

fn process_alive(pid: i32) -> bool {
    // When the stale postmaster is our own child (a cluster leaked within this process), reap it.
    let _ = nix::sys::wait::waitpid(
        Pid::from_raw(pid),
        Some(nix::sys::wait::WaitPidFlag::WNOHANG),
    );
    // A zombie still answers kill(0); look at its state too.
    if kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Whether `pid` is a postgres process whose data directory is `pgdata`.
fn is_postmaster_of(pid: i32, pgdata: &Path) -> bool {
    if !process_alive(pid) {
        return false;
    }
    let Ok(mut f) = std::fs::File::open(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let mut raw = Vec::new();
    if f.read_to_end(&mut raw).is_err() {
        return false;
    }
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let is_postgres = args.first().is_some_and(|a| a.ends_with("postgres"));
    let dir = pgdata.to_string_lossy();
    is_postgres && args.iter().any(|a| a == dir.as_ref())
}

/// The socket goes inside the cluster directory unless that path is too long for a unix socket.
fn socket_dir_for(pgdata: &Path, account: Option<&Account>) -> Result<PathBuf, EmbeddedError> {
    let sock_name_len = format!("/.s.PGSQL.{PORT}").len();
    if pgdata.as_os_str().len() + sock_name_len <= MAX_SOCKET_PATH {
        return Ok(pgdata.to_owned());
    }
    let dir =
        std::env::temp_dir().join(format!("kadr-pg-{}", short_hash(&pgdata.to_string_lossy())));
    std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io("socket dir permissions"))?;
    if let Some(a) = account {
        chown(&dir, Some(a.uid), Some(a.gid))
            .map_err(|e| io("handing the socket dir to postgres")(e.into()))?;
    }
    Ok(dir)
}

fn short_hash(s: &str) -> String {
    // FNV-1a: only needs to tell directories apart.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn connection_url(socket_dir: &Path, database: &str) -> String {
    let host: String =
        url::form_urlencoded::byte_serialize(socket_dir.to_string_lossy().as_bytes()).collect();
    format!("postgres://{DB_USER}@localhost/{database}?host={host}&port={PORT}")
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
