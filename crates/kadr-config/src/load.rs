//! The layers: the compiled-in `config/default.toml`, the `--config` file, the environment.

use std::path::Path;
use std::sync::LazyLock;

use figment::Figment;
use figment::providers::{Env, Format, Toml};

use crate::ConfigError;
use crate::schema::*;

/// `config/default.toml`: every key with its default and its environment variable.
pub const DEFAULTS_TOML: &str = include_str!("../../../config/default.toml");

/// Prefix of every environment variable read as configuration.
pub const ENV_PREFIX: &str = "KADR_";

/// The defaults: `config/default.toml` as compiled in. A test parses the file, so a build
/// whose file does not parse fails its tests before it ships.
pub fn defaults() -> &'static Config {
    static DEFAULTS: LazyLock<Config> = LazyLock::new(|| {
        Figment::from(Toml::string(DEFAULTS_TOML))
            .extract()
            .unwrap_or_else(|e| panic!("config/default.toml (compiled in) does not parse: {e}"))
    });
    &DEFAULTS
}

macro_rules! defaults_of {
    ($($section:ident: $ty:ty),+ $(,)?) => {
        $(
            impl Default for $ty {
                /// As in `config/default.toml`.
                fn default() -> Self {
                    defaults().$section.clone()
                }
            }
        )+
    };
}

impl Default for Config {
    /// As in `config/default.toml`.
    fn default() -> Self {
        defaults().clone()
    }
}

defaults_of!(
    server: ServerConfig,
    api: ApiConfig,
    worker: WorkerConfig,
    database: DatabaseConfig,
    storage: StorageConfig,
    queue: QueueConfig,
    log: LogConfig,
    auth: AuthConfig,
    upload: UploadConfig,
    moderation: ModerationConfig,
    transcode: TranscodeConfig,
    community: CommunityConfig,
    mail: MailConfig,
    site: SiteConfig,
);

impl Config {
    /// Loads the layered configuration; `file` is the `--config` argument.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, Env::prefixed(ENV_PREFIX).split("__"))
    }

    /// Like [`Config::load`] with an explicit environment provider.
    pub fn load_from(file: Option<&Path>, env: Env) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULTS_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.to_owned(),
                    message: "no such file".to_owned(),
                });
            }
            figment = figment.merge(Toml::file(path));
        }
        let config: Config = figment.merge(env).extract().map_err(from_figment)?;
        config.validate()?;
        Ok(config)
    }
}

fn from_figment(err: figment::Error) -> ConfigError {
    let key = err.path.join(".");
    let origin = match &err.metadata {
        Some(md) => match &md.source {
            Some(figment::Source::File(path)) => format!(" (in {})", path.display()),
            _ if md.name.contains("environment") => {
                let var = format!("{ENV_PREFIX}{}", err.path.join("__")).to_uppercase();
                format!(" (from environment variable {var})")
            }
            _ => String::new(),
        },
        None => String::new(),
    };
    ConfigError::Invalid {
        key: if key.is_empty() {
            "<root>".to_owned()
        } else {
            key
        },
        message: err.kind.to_string(),
        origin,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]
    use super::*;
    use crate::{Secret, redact_url};

    fn no_env() -> Env {
        Env::prefixed("KADR_UNIT_TEST_NOTHING_").split("__")
    }

    #[test]
    fn the_compiled_in_defaults_parse_and_hold_every_key() {
        let d = defaults();
        d.validate().unwrap();
        // Every key of the schema is in the file (Options left out are None): printing the
        // defaults back gives the file's keys.
        let file: toml::Value = toml::from_str(DEFAULTS_TOML).unwrap();
        let back = toml::Value::try_from(d).unwrap();
        assert_eq!(
            file, back,
            "config/default.toml lists a key the schema lacks, or a value differently"
        );
        assert_eq!(d.server.listen.port(), 8080);
        assert_eq!(WorkerConfig::default(), d.worker);
    }

    /// The README's table has every key of the defaults, with its environment variable.
    #[test]
    fn readme_lists_every_key() {
        fn keys(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
            match v {
                toml::Value::Table(t) => {
                    for (k, v) in t {
                        let key = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        keys(&key, v, out);
                    }
                }
                _ => out.push(prefix.to_owned()),
            }
        }
        let mut all = Vec::new();
        keys("", &toml::from_str(DEFAULTS_TOML).unwrap(), &mut all);
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
                .unwrap();
        let missing: Vec<&String> = all
            .iter()
            .filter(|k| {
                let env = format!("{ENV_PREFIX}{}", k.replace('.', "__")).to_uppercase();
                !readme.contains(&format!("| `{k}` | `{env}` |"))
            })
            .collect();
        assert!(all.len() > 50, "{all:?}");
        assert!(
            missing.is_empty(),
            "README.md's configuration table lacks {missing:?}"
        );
    }

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.toml");
        std::fs::write(&file, "[queue]\nmax_attempts = 9\nlease_secs = 60\n").unwrap();
        figment::Jail::expect_with(|jail| {
            // The suite may run with KADR_TEST_* variables set (the S3 cluster's address).
            jail.clear_env();
            jail.set_env("KADR_QUEUE__LEASE_SECS", "90");
            jail.set_env("KADR_STORAGE__S3__BUCKET", "videos");
            jail.set_env("KADR_STORAGE__S3__PATH_STYLE", "false");
            let c = Config::load_from(Some(&file), Env::prefixed("KADR_").split("__")).unwrap();
            // The file over the defaults, the environment over the file.
            assert_eq!(c.queue.max_attempts, 9);
            assert_eq!(c.queue.lease_secs, 90);
            assert_eq!(c.queue.heartbeat_secs, defaults().queue.heartbeat_secs);
            assert_eq!(c.storage.s3.bucket, "videos");
            assert!(!c.storage.s3.path_style);
            Ok(())
        });
    }

    #[test]
    fn bad_value_names_the_key_and_the_variable() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("KADR_SERVER__LISTEN", "not-an-address");
            let err = Config::load_from(None, Env::prefixed("KADR_").split("__")).unwrap_err();
            assert_eq!(err.key(), Some("server.listen"));
            let text = err.to_string();
            assert!(text.contains("server.listen"), "{text}");
            assert!(text.contains("KADR_SERVER__LISTEN"), "{text}");
            assert!(!text.contains('\n'), "one line: {text}");
            Ok(())
        });
    }

    #[test]
    fn unknown_key_in_a_section_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.toml");
        std::fs::write(&file, "[storage]\nbakend = \"s3\"\n").unwrap();
        let err = Config::load_from(Some(&file), no_env()).unwrap_err();
        assert_eq!(err.key(), Some("storage.bakend"));
        assert!(err.to_string().contains("bakend"), "{err}");
        assert!(err.to_string().contains("site.toml"), "{err}");
    }

    #[test]
    fn ladder_is_checked() {
        let mut c = Config::default();
        assert_eq!(c.transcode.rungs().unwrap()[0], (1080, 5000));
        c.transcode.ladder = vec!["720:3000".into(), "1080:5000".into()];
        assert_eq!(c.validate().unwrap_err().key(), Some("transcode.ladder"));
        c.transcode.ladder = vec!["720-3000".into()];
        assert_eq!(c.validate().unwrap_err().key(), Some("transcode.ladder"));
    }

    #[test]
    fn validation_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.toml");
        std::fs::write(&file, "[queue]\nlease_secs = 4\nheartbeat_secs = 5\n").unwrap();
        let err = Config::load_from(Some(&file), no_env()).unwrap_err();
        assert_eq!(err.key(), Some("queue.heartbeat_secs"));
        std::fs::write(
            &file,
            "[storage]\nbackend = \"s3\"\n[storage.s3]\nbucket = \" \"\n",
        )
        .unwrap();
        let err = Config::load_from(Some(&file), no_env()).unwrap_err();
        assert_eq!(err.key(), Some("storage.s3.bucket"));
        std::fs::write(&file, "[database]\nurl = \"mysql://x\"\n").unwrap();
        let err = Config::load_from(Some(&file), no_env()).unwrap_err();
        assert_eq!(err.key(), Some("database.url"));
    }

    #[test]
    fn import_sources_and_the_allow_list_are_checked() {
        let mut c = Config::default();
        c.outbound.allow = vec![
            "media.internal".into(),
            "10.20.0.0/16".into(),
            "10.0.0.5".into(),
        ];
        c.validate().unwrap();
        assert_eq!(
            c.outbound.allowed_hosts(),
            vec!["media.internal".to_owned()]
        );
        assert_eq!(c.outbound.allowed_nets().len(), 2);
        c.outbound.allow = vec!["http://media.internal/".into()];
        assert_eq!(c.validate().unwrap_err().key(), Some("outbound.allow"));
        c.outbound.allow = vec![];

        let source = |endpoint: Option<&str>, buckets: &[&str]| ImportSourceConfig {
            endpoint: endpoint.map(str::to_owned),
            region: "us-east-1".into(),
            buckets: buckets.iter().map(|b| (*b).to_owned()).collect(),
            access_key_id: None,
            secret_access_key: None,
            path_style: true,
        };
        // Kadr's own endpoint needs S3 storage, and never reads Kadr's own bucket.
        c.import
            .sources
            .insert("archive".into(), source(None, &["old"]));
        assert_eq!(
            c.validate().unwrap_err().key(),
            Some("import.sources.archive.endpoint")
        );
        c.storage.backend = StorageBackend::S3;
        c.storage.s3.bucket = "kadr".into();
        c.validate().unwrap();
        c.import
            .sources
            .insert("archive".into(), source(None, &["old", "kadr"]));
        assert_eq!(
            c.validate().unwrap_err().key(),
            Some("import.sources.archive.buckets")
        );
        // Every bucket named; another endpoint may be any http(s) URL.
        c.import
            .sources
            .insert("archive".into(), source(Some("http://10.0.0.9:9000"), &[]));
        assert_eq!(
            c.validate().unwrap_err().key(),
            Some("import.sources.archive.buckets")
        );
        c.import
            .sources
            .insert("archive".into(), source(Some("ftp://x"), &["a"]));
        assert_eq!(
            c.validate().unwrap_err().key(),
            Some("import.sources.archive.endpoint")
        );
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let err = Config::load_from(Some(Path::new("/no/such.toml")), no_env()).unwrap_err();
        assert!(err.to_string().contains("/no/such.toml"));
    }

    #[test]
    fn secrets_are_redacted_in_debug_and_printout() {
        let mut c = Config::default();
        c.database.url = Some(Secret::new("postgres://kadr:hunter2@db:5432/kadr"));
        c.storage.s3.access_key_id = Some("AKIA".to_owned());
        c.storage.s3.secret_access_key = Some(Secret::new("s3cr3t-value"));
        c.admin_password = Some(Secret::new("adm1n-pass"));
        c.api.media_secret = Some(Secret::new("media-key-that-is-long-enough-32+"));
        let debug = format!("{c:?}");
        for secret in ["hunter2", "s3cr3t-value", "adm1n-pass", "media-key-that"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let printed = c.to_redacted_toml().unwrap();
        for secret in ["hunter2", "s3cr3t-value", "adm1n-pass", "media-key-that"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(
            printed.contains("postgres://kadr:<redacted>@db:5432/kadr"),
            "{printed}"
        );
        assert!(printed.contains("AKIA"));
    }

    #[test]
    fn redact_url_keeps_url_without_password() {
        assert_eq!(
            redact_url("postgres://kadr@/kadr?host=/tmp"),
            "postgres://kadr@/kadr?host=/tmp"
        );
        assert_eq!(
            redact_url("postgres://u:p@h/d"),
            "postgres://u:<redacted>@h/d"
        );
    }
}
