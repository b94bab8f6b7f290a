//! Backends the test suites run against, each behind a [`Fixture`].

use kadr_storage::testing::S3TestServer;
use kadr_storage::{LocalOptions, MIN_PART_SIZE, S3Options, Storage};

/// A storage to test, plus whatever must live as long as it. Every key a test
/// uses goes under `ns`, so tests sharing a bucket do not see each other.
pub struct Fixture {
    pub storage: Storage,
    pub ns: String,
    /// The in-process s3s-fs server, if that is the backend (it has a few
    /// known gaps: see the cases).
    pub server: Option<S3TestServer>,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    /// `name` inside this test's namespace.
    pub fn key(&self, name: &str) -> String {
        format!("{}/{name}", self.ns)
    }

    /// Removes what the test stored (it matters on a shared bucket).
    pub async fn cleanup(self) {
        self.storage
            .delete_prefix(&format!("{}/", self.ns))
            .await
            .unwrap();
    }
}

fn namespace() -> String {
    format!("kadr-test-{}", uuid::Uuid::new_v4())
}

/// The local backend in a fresh temporary directory.
pub async fn local() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(LocalOptions {
        root: dir.path().join("objects"),
    })
    .await
    .unwrap();
    Fixture {
        storage,
        ns: namespace(),
        _dir: Some(dir),
        server: None,
    }
}

/// The S3 backend against a fresh in-process s3s-fs server, with 5 MiB parts
/// so that multipart uploads happen at modest sizes.
pub async fn s3() -> Fixture {
    let server = S3TestServer::start().await.unwrap();
    let storage = Storage::s3(S3Options {
        part_size: MIN_PART_SIZE,
        ..server.options()
    })
    .await
    .unwrap();
    Fixture {
        storage,
        ns: namespace(),
        _dir: None,
        server: Some(server),
    }
}

/// The S3 backend against the server named by `KADR_TEST_S3_ENDPOINT` (with
/// `KADR_TEST_S3_BUCKET`, `KADR_TEST_S3_ACCESS_KEY_ID`,
/// `KADR_TEST_S3_SECRET_ACCESS_KEY`, `KADR_TEST_S3_REGION`). These tests are
/// `#[ignore]`d; `make test` runs them when the variable is set.
pub async fn s3_env() -> Fixture {
    let endpoint = std::env::var("KADR_TEST_S3_ENDPOINT")
        .expect("KADR_TEST_S3_ENDPOINT names the S3 server these tests run against");
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let storage = Storage::s3(S3Options {
        endpoint: Some(endpoint),
        bucket: var("KADR_TEST_S3_BUCKET").unwrap_or_else(|| "kadr-test".to_owned()),
        region: var("KADR_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
        access_key_id: var("KADR_TEST_S3_ACCESS_KEY_ID"),
        secret_access_key: var("KADR_TEST_S3_SECRET_ACCESS_KEY"),
        path_style: true,
        part_size: MIN_PART_SIZE,
        ..S3Options::default()
    })
    .await
    .unwrap();
    Fixture {
        storage,
        ns: namespace(),
        _dir: None,
        server: None,
    }
}

/// Deterministic pseudo-random bytes (splitmix64), cheap to make again.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise(seed)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        out.truncate(len);
        out
    }
}
