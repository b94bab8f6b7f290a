//! S3 servers for tests (feature `test-server`): s3s-fs inside the test process, over a
//! temporary directory on a free loopback port; or a bucket of its own on the real server
//! `KADR_TEST_S3_ENDPOINT` names (SeaweedFS in `make test`, see tests/s3/).

use std::net::Ipv4Addr;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::S3Options;

/// A running S3 server with one empty bucket for this test. An in-process one stops,
/// and its files are removed, when dropped; on an external server the bucket stays
/// (the run's server is thrown away with its data).
pub struct S3TestServer {
    endpoint: String,
    /// The bucket made for this server.
    pub bucket: String,
    /// Access key id the server accepts.
    pub access_key_id: String,
    /// Secret access key the server accepts.
    pub secret_access_key: String,
    inner: Inner,
}

enum Inner {
    InProcess {
        server: JoinHandle<()>,
        root: tempfile::TempDir,
    },
    External,
}

impl S3TestServer {
    /// Starts a server on `127.0.0.1` (port chosen by the OS) with a bucket
    /// named `kadr-test`.
    pub async fn start() -> std::io::Result<S3TestServer> {
        let root = tempfile::tempdir()?;
        let bucket = "kadr-test".to_owned();
        // s3s-fs keeps each bucket as a directory under its root.
        std::fs::create_dir(root.path().join(&bucket))?;
        let fs = s3s_fs::FileSystem::new(root.path())
            .map_err(|e| std::io::Error::other(format!("starting s3s-fs: {e:?}")))?;

        let access_key_id = "kadr-test-key".to_owned();
        let secret_access_key = "kadr-test-secret".to_owned();
        let mut service = S3ServiceBuilder::new(fs);
        service.set_auth(SimpleAuth::from_single(
            access_key_id.clone(),
            secret_access_key.clone(),
        ));

        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(serve(listener, service.build()));
        Ok(S3TestServer {
            endpoint,
            bucket,
            access_key_id,
            secret_access_key,
            inner: Inner::InProcess { server, root },
        })
    }

    /// A fresh bucket on the server `KADR_TEST_S3_ENDPOINT` names (with
    /// `KADR_TEST_S3_ACCESS_KEY_ID` and `KADR_TEST_S3_SECRET_ACCESS_KEY`), or `None`
    /// when the variable is not set.
    pub async fn external() -> Option<std::io::Result<S3TestServer>> {
        let endpoint = std::env::var("KADR_TEST_S3_ENDPOINT")
            .ok()
            .filter(|v| !v.is_empty())?;
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        let server = S3TestServer {
            endpoint,
            bucket: format!("kadr-{}", uuid::Uuid::new_v4().simple()),
            access_key_id: var("KADR_TEST_S3_ACCESS_KEY_ID"),
            secret_access_key: var("KADR_TEST_S3_SECRET_ACCESS_KEY"),
            inner: Inner::External,
        };
        let made = async {
            let storage = crate::S3Storage::new(server.options()).await?;
            storage.create_bucket().await
        };
        Some(match made.await {
            Ok(()) => Ok(server),
            Err(e) => Err(std::io::Error::other(format!(
                "making a bucket on {}: {e}",
                server.endpoint
            ))),
        })
    }

    /// Whether this is a real server rather than the in-process one.
    pub fn is_external(&self) -> bool {
        matches!(self.inner, Inner::External)
    }

    /// The server's URL, e.g. `http://127.0.0.1:38021`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// How many multipart uploads were started and neither completed nor
    /// aborted (s3s-fs keeps one `.upload-<id>.json` file for each and does not
    /// list them; a real server is asked).
    pub async fn unfinished_uploads(&self) -> std::io::Result<usize> {
        let root = match &self.inner {
            Inner::InProcess { root, .. } => root,
            Inner::External => {
                let storage = crate::S3Storage::new(self.options())
                    .await
                    .map_err(std::io::Error::other)?;
                return storage
                    .list_multipart_uploads("")
                    .await
                    .map(|u| u.len())
                    .map_err(std::io::Error::other);
            }
        };
        let mut count = 0;
        for entry in std::fs::read_dir(root.path())? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".upload-") && name.ends_with(".json") {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Options for [`crate::Storage::s3`] pointing at this server's bucket
    /// (path-style addressing, default part size).
    pub fn options(&self) -> S3Options {
        S3Options {
            endpoint: Some(self.endpoint.clone()),
            bucket: self.bucket.clone(),
            region: "us-east-1".to_owned(),
            access_key_id: Some(self.access_key_id.clone()),
            secret_access_key: Some(self.secret_access_key.clone()),
            path_style: true,
            ..S3Options::default()
        }
    }
}

impl Drop for S3TestServer {
    fn drop(&mut self) {
        if let Inner::InProcess { server, .. } = &self.inner {
            server.abort();
        }
    }
}

/// Accepts connections until aborted; aborting drops the set of connection
/// tasks, which ends them too.
async fn serve(listener: TcpListener, service: S3Service) {
    let mut connections = JoinSet::new();
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(e) => {
                tracing::warn!(error = %e, "test S3 server: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let service = service.clone();
        connections.spawn(async move {
            let http = Builder::new(TokioExecutor::new());
            if let Err(e) = http.serve_connection(TokioIo::new(socket), service).await {
                tracing::debug!(error = %e, "test S3 server: connection ended with an error");
            }
        });
    }
}
