//! A 64 MiB object streamed in and out of each backend with bounded memory,
//! measured by a counting global allocator (so this test has a binary of its
//! own).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Implementing GlobalAlloc is unsafe by nature; this is the only unsafe code.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::{Fixture, Noise};
use futures::StreamExt;
use sha2::{Digest, Sha256};

const SIZE: usize = 64 * 1024 * 1024;
/// Peak heap growth allowed while putting or getting the object.
const LIMIT: usize = 24 * 1024 * 1024;
/// Chunk sizes of the generated body, in turn: odd ones, tiny to 3 MiB.
const CHUNKS: [usize; 7] = [1000, 3 * 1024 * 1024, 65_537, 1, 1_048_573, 4096, 2_000_003];

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = IN_USE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    IN_USE.fetch_sub(bytes, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds alloc's contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for alloc.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from this allocator (so from System) with layout.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for dealloc; new_size is checked by the caller.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Count both blocks for a moment, as a moving realloc holds both.
            grew(new_size);
            shrank(layout.size());
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Starts a measurement: returns the bytes in use now, and resets the peak.
fn measure_from_here() -> usize {
    let now = IN_USE.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn peak_since(base: usize) -> usize {
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The tests of this binary measure one process-wide allocator: run them one
/// at a time even under `cargo test`'s threads.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A deterministic 64 MiB body made chunk by chunk, hashing what it yields.
fn generated_body(hash: Arc<Mutex<Sha256>>) -> kadr_storage::BodyStream {
    let mut noise = Noise::new(64);
    let mut sent = 0;
    let mut turn = 0;
    futures::stream::poll_fn(move |_| {
        if sent == SIZE {
            return std::task::Poll::Ready(None);
        }
        let len = CHUNKS[turn % CHUNKS.len()].min(SIZE - sent);
        turn += 1;
        sent += len;
        let chunk = noise.bytes(len);
        hash.lock().unwrap().update(&chunk);
        std::task::Poll::Ready(Some(Ok(Bytes::from(chunk))))
    })
    .boxed()
}

async fn big_object_round_trip(fx: &Fixture) {
    let _one = ONE_AT_A_TIME.lock().await;
    let backend = fx.storage.backend_name();
    let key = fx.key("big/object.bin");
    let hash = Arc::new(Mutex::new(Sha256::new()));

    let base = measure_from_here();
    let meta = fx
        .storage
        .put_stream(&key, generated_body(hash.clone()), None)
        .await
        .unwrap();
    let put_peak = peak_since(base);
    assert_eq!(meta.size, SIZE as u64);
    if backend == "s3" {
        // The multipart ETag ends with the number of parts: 64 MiB / 5 MiB.
        assert!(meta.etag.ends_with("-13"), "{backend}: ETag {}", meta.etag);
    }
    if let Some(server) = &fx.server {
        assert_eq!(server.unfinished_uploads().await.unwrap(), 0);
    }
    let expected = hash.lock().unwrap().clone().finalize();

    let base = measure_from_here();
    let got = fx.storage.get(&key, None).await.unwrap();
    assert_eq!(got.meta.size, SIZE as u64);
    let (read, digest) = got
        .body
        .fold(
            (0usize, Sha256::new()),
            |(read, mut digest), chunk| async move {
                let chunk = chunk.unwrap();
                digest.update(&chunk);
                (read + chunk.len(), digest)
            },
        )
        .await;
    let get_peak = peak_since(base);
    assert_eq!(read, SIZE);
    assert!(digest.finalize() == expected, "{backend}: content differs");

    println!(
        "{backend}: 64 MiB object, peak heap growth: put_stream {:.1} MiB, get {:.1} MiB",
        mib(put_peak),
        mib(get_peak)
    );
    assert!(
        put_peak < LIMIT,
        "{backend}: put_stream grew the heap by {:.1} MiB",
        mib(put_peak)
    );
    assert!(
        get_peak < LIMIT,
        "{backend}: get grew the heap by {:.1} MiB",
        mib(get_peak)
    );
}

#[tokio::test]
async fn big_object_local() {
    let fx = common::local().await;
    big_object_round_trip(&fx).await;
    fx.cleanup().await;
}

#[tokio::test]
async fn big_object_s3() {
    let fx = common::s3().await;
    big_object_round_trip(&fx).await;
    fx.cleanup().await;
}

#[tokio::test]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test runs it when set)"]
async fn big_object_s3_env() {
    let fx = common::s3_env().await;
    big_object_round_trip(&fx).await;
    fx.cleanup().await;
}
