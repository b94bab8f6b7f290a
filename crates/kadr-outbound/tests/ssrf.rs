//! The guard against real sockets: trap listeners on loopback that must see no connection, small
//! HTTP servers on loopback reached through the allow-list, and a real reqwest client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use kadr_outbound::{Client, Error, Policy, Refused, Resolver, SystemResolver, check_url};
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A listener that counts the connections it accepts and drops them.
struct Trap {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Trap {
    async fn bind(addr: &str) -> Option<Trap> {
        let listener = TcpListener::bind(addr).await.ok()?;
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Some(Trap { port, hits })
    }

    /// Connections seen, after giving any connection in flight time to be accepted.
    async fn hits(&self) -> usize {
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.hits.load(Ordering::SeqCst)
    }
}

/// Names mapped to addresses; any other name goes to the system's resolver.
#[derive(Default)]
struct MapResolver {
    names: HashMap<String, Vec<IpAddr>>,
    calls: AtomicUsize,
}

impl MapResolver {
    fn with(pairs: &[(&str, &str)]) -> Arc<MapResolver> {
        let mut names: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, ip) in pairs {
            names
                .entry((*name).to_owned())
                .or_default()
                .push(ip.parse().unwrap());
        }
        Arc::new(MapResolver {
            names,
            calls: AtomicUsize::new(0),
        })
    }
}

impl Resolver for MapResolver {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let key = host.trim_end_matches('.').to_ascii_lowercase();
        match self.names.get(&key) {
            Some(ips) => {
                let addrs = ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
                Box::pin(async move { Ok(addrs) })
            }
            None => SystemResolver.resolve(host, port),
        }
    }
}

/// A request as a test server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Host` header without its port.
    fn host(&self) -> &str {
        let host = self.header("host").unwrap_or("");
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    }
}

/// What a test server answers.
struct Reply {
    status: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Reply {
    fn ok(body: &str) -> Reply {
        Reply {
            status: "200 OK",
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    fn redirect(status: &'static str, location: &str) -> Reply {
        Reply {
            status,
            headers: vec![("location", location.to_owned())],
            body: String::new(),
        }
    }
}

type Seens = Arc<Mutex<Vec<Seen>>>;

async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

/// A plain HTTP/1.1 server on `listener` answering each request with `handler`, one request
/// per connection; returns what it saw.
fn serve<F>(listener: TcpListener, handler: F) -> Seens
where
    F: Fn(&Seen) -> Reply + Send + Sync + 'static,
{
    let seen: Seens = Arc::default();
    let log = Arc::clone(&seen);
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let Some(request) = read_request(&mut stream).await else {
                    return;
                };
                let reply = handler(&request);
                log.lock().unwrap().push(request);
                let mut out = format!("HTTP/1.1 {}\r\n", reply.status);
                for (k, v) in &reply.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str(&format!(
                    "content-length: {}\r\nconnection: close\r\n\r\n{}",
                    reply.body.len(),
                    reply.body
                ));
                let _ = stream.write_all(out.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    seen
}

async fn loopback_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn client(policy: Policy, resolver: Arc<MapResolver>) -> Client {
    Client::with_resolver(policy, resolver).unwrap()
}

fn allow_hosts(hosts: &[&str]) -> Policy {
    Policy {
        allow_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        ..Policy::default()
    }
}

fn allow_loopback() -> Policy {
    Policy {
        allow_nets: vec!["127.0.0.1/32".parse().unwrap()],
        ..Policy::default()
    }
}

/// The refusal of a request that had to be refused.
async fn get_refused(client: &Client, target: &str) -> Refused {
    match client.get(&url(target), HeaderMap::new()).await {
        Err(Error::Refused(r)) => r,
        Err(other) => panic!("{target}: not refused but {other:?}"),
        Ok(response) => panic!("{target}: answered {}", response.status()),
    }
}

fn class(refused: &Refused) -> &'static str {
    match refused {
        Refused::Address { class, .. } => class,
        other => panic!("not an address refusal: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Literal addresses and local names

#[tokio::test]
async fn every_notation_of_loopback_is_refused_before_connecting() {
    let trap = Trap::bind("127.0.0.1:0").await.unwrap();
    let p = trap.port;
    let client = Client::new(Policy::default()).unwrap();
    let cases = [
        (format!("http://127.0.0.1:{p}/"), "loopback"),
        (format!("http://127.0.0.1.:{p}/"), "loopback"),
        (format!("http://2130706433:{p}/"), "loopback"),
        (format!("http://0177.0.0.1:{p}/"), "loopback"),
        (format!("http://0x7f.0.0.1:{p}/"), "loopback"),
        (format!("http://0x7f000001:{p}/"), "loopback"),
        (format!("http://0x7f.1:{p}/"), "loopback"),
        (format!("http://127.1:{p}/"), "loopback"),
        (format!("http://127.0.0.2:{p}/"), "loopback"),
        (format!("http://0:{p}/"), "unspecified"),
        (format!("http://0.0.0.0:{p}/"), "unspecified"),
        (format!("http://[::ffff:127.0.0.1]:{p}/"), "loopback"),
        (format!("http://[::ffff:7f00:1]:{p}/"), "loopback"),
        (
            format!("http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/"),
            "loopback",
        ),
        (format!("http://[::ffff:0.0.0.0]:{p}/"), "unspecified"),
        (format!("http://[::127.0.0.1]:{p}/"), "loopback"),
        (format!("http://[64:ff9b::7f00:1]:{p}/"), "loopback"),
        (format!("http://[2002:7f00:1::]:{p}/"), "loopback"),
        (format!("https://127.0.0.1:{p}/"), "loopback"),
    ];
    for (target, want) in &cases {
        let refused = get_refused(&client, target).await;
        assert_eq!(class(&refused), *want, "{target}");
    }
    assert_eq!(trap.hits().await, 0, "the trap saw a connection");

    // The trap does catch what gets through: the same address, allowed.
    let open = Client::new(allow_loopback()).unwrap();
    let got = open
        .get(&url(&format!("http://127.0.0.1:{p}/")), HeaderMap::new())
        .await;
    assert!(got.is_err(), "the trap answers nothing");
    assert!(got.unwrap_err().refused().is_none());
    assert_eq!(trap.hits().await, 1);
}

#[tokio::test]
async fn ipv6_loopback_is_refused_before_connecting() {
    let Some(trap) = Trap::bind("[::1]:0").await else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let p = trap.port;
    let client = Client::new(Policy::default()).unwrap();
    for target in [
        format!("http://[::1]:{p}/"),
        format!("http://[0:0:0:0:0:0:0:1]:{p}/"),
        format!("http://[0000::0001]:{p}/"),
    ] {
        assert_eq!(class(&get_refused(&client, &target).await), "loopback");
    }
    assert_eq!(get_refused(&client, &format!("http://[::]:{p}/")).await, {
        Refused::Address {
            ip: "::".parse().unwrap(),
            class: "unspecified",
        }
    });
    assert_eq!(trap.hits().await, 0);
}

#[tokio::test]
async fn localhost_by_name_is_refused_after_resolving() {
    let trap = Trap::bind("127.0.0.1:0").await.unwrap();
    let trap6 = Trap::bind("[::1]:0").await;
    let p = trap.port;
    // The system's resolver (localhost is in /etc/hosts).
    let client = Client::new(Policy::default()).unwrap();
    for target in [
        format!("http://localhost:{p}/"),
        format!("http://LOCALHOST:{p}/"),
        format!("http://localhost.:{p}/"),
        format!("http://LOCALHOST.:{p}/"),
    ] {
        let refused = get_refused(&client, &target).await;
        // Whatever glibc makes of the trailing dot, the name never gets through.
        match refused {
            Refused::Address { class, .. } => assert_eq!(class, "loopback", "{target}"),
            Refused::NoAddress(_) => {}
            other => panic!("{target}: {other:?}"),
        }
    }
    assert_eq!(
        class(&get_refused(&client, &format!("http://localhost:{p}/")).await),
        "loopback"
    );
    // Some resolvers (not every one) answer for the trailing-dot form; when one does, the
    // answer is judged like any other.
    let dotted = self::client(
        Policy::default(),
        MapResolver::with(&[("localhost", "127.0.0.1"), ("localhost", "::1")]),
    );
    for target in [
        format!("http://localhost.:{p}/"),
        format!("http://LOCALHOST.:{p}/"),
    ] {
        assert_eq!(class(&get_refused(&dotted, &target).await), "loopback");
    }
    assert_eq!(trap.hits().await, 0);
    if let Some(trap6) = trap6 {
        let refused = get_refused(&client, &format!("http://localhost:{}/", trap6.port)).await;
        assert_eq!(class(&refused), "loopback");
        assert_eq!(trap6.hits().await, 0);
    }
}

#[tokio::test]
async fn private_and_metadata_addresses_have_their_class() {
    let p = Policy::default();
    let cases = [
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://100.100.100.200/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "metadata"),
        ("http://[fe80::1]/", "link-local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
        ("http://2852039166/", "metadata"),
    ];
    for (target, want) in cases {
        let refused = check_url(&p, target).unwrap_err();
        assert_eq!(class(&refused), want, "{target}");
        // What the user is told names the class, not the address.
        assert_eq!(
            refused.to_string(),
            format!("{want} addresses are not reachable from Kadr")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Names that resolve to blocked addresses

#[tokio::test]
async fn a_public_looking_name_resolving_to_loopback_is_refused() {
    let trap = Trap::bind("127.0.0.1:0").await.unwrap();
    let p = trap.port;
    let resolver = MapResolver::with(&[
        ("videos.example.com", "127.0.0.1"),
        ("mapped.example.com", "::ffff:127.0.0.1"),
        // One public answer does not make a blocked one acceptable.
        ("mixed.example.com", "1.1.1.1"),
        ("mixed.example.com", "127.0.0.1"),
        ("metadata.example.com", "169.254.169.254"),
    ]);
    let client = client(Policy::default(), Arc::clone(&resolver));
    for (name, want) in [
        ("videos.example.com", "loopback"),
        ("Videos.Example.COM.", "loopback"),
        ("mapped.example.com", "loopback"),
        ("mixed.example.com", "loopback"),
        ("metadata.example.com", "metadata"),
    ] {
        let refused = get_refused(&client, &format!("http://{name}:{p}/")).await;
        assert_eq!(class(&refused), want, "{name}");
    }
    // The same through POST.
    let got = client
        .post(
            &url(&format!("http://videos.example.com:{p}/hook")),
            HeaderMap::new(),
            Bytes::from_static(b"{}"),
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(class(got.unwrap_err().refused().unwrap()), "loopback");
    assert!(resolver.calls.load(Ordering::SeqCst) >= 6);
    assert_eq!(trap.hits().await, 0);
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_refused() {
    // No DNS: one resolver fails, the other answers nothing.
    struct Nothing(bool);
    impl Resolver for Nothing {
        fn resolve(&self, _: &str, _: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
            let fail = self.0;
            Box::pin(async move {
                if fail {
                    Err(io::Error::new(io::ErrorKind::NotFound, "NXDOMAIN"))
                } else {
                    Ok(Vec::new())
                }
            })
        }
    }
    for fail in [true, false] {
        let client = Client::with_resolver(Policy::default(), Arc::new(Nothing(fail))).unwrap();
        let refused = get_refused(&client, "http://no-such-host.invalid/").await;
        assert_eq!(refused, Refused::NoAddress("no-such-host.invalid".into()));
        assert_eq!(
            refused.to_string(),
            "no-such-host.invalid did not resolve to any address"
        );
    }
}

#[tokio::test]
async fn each_connection_checks_what_the_name_resolves_to_then() {
    // A resolver that answers an allowed address first and loopback's IPv6 address after.
    struct Rebinding {
        calls: AtomicUsize,
    }
    impl Resolver for Rebinding {
        fn resolve(&self, _: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let ip: IpAddr = if n == 0 {
                "127.0.0.1".parse().unwrap()
            } else {
                "::1".parse().unwrap()
            };
            Box::pin(async move { Ok(vec![SocketAddr::new(ip, port)]) })
        }
    }
    let (listener, s) = loopback_listener().await;
    let seen = serve(listener, |_| Reply::ok("hello"));
    let client = Client::with_resolver(
        allow_loopback(),
        Arc::new(Rebinding {
            calls: AtomicUsize::new(0),
        }),
    )
    .unwrap();
    let target = url(&format!("http://rebind.example.com:{s}/"));
    let first = client.get(&target, HeaderMap::new()).await.unwrap();
    assert_eq!(first.text().await.unwrap(), "hello");
    // The server closed the connection, so the next request resolves again, and is refused.
    let second = client.get(&target, HeaderMap::new()).await.unwrap_err();
    assert_eq!(class(second.refused().unwrap()), "loopback");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Redirects

#[tokio::test]
async fn a_redirect_chain_ending_at_loopback_is_refused() {
    let trap = Trap::bind("127.0.0.1:0").await.unwrap();
    let t = trap.port;
    let targets: Vec<String> = vec![
        format!("http://127.0.0.1:{t}/"),
        format!("http://localhost:{t}/"),
        format!("http://rebind.test:{t}/"),
        format!("http://0x7f000001:{t}/"),
        format!("http://[::ffff:127.0.0.1]:{t}/"),
        format!("//127.0.0.1:{t}/"),
        format!("http://169.254.169.254:{t}/latest/meta-data/"),
    ];
    let (listener, s) = loopback_listener().await;
    let to = targets.clone();
    let seen = serve(listener, move |req| {
        let n: usize = req.path.rsplit('/').next().unwrap().parse().unwrap();
        match req.host() {
            "origin.test" => Reply::redirect("302 Found", &format!("http://hop.test:{s}/hop/{n}")),
            _ => Reply::redirect("302 Found", &to[n]),
        }
    });
    let resolver = MapResolver::with(&[
        ("origin.test", "127.0.0.1"),
        ("hop.test", "127.0.0.1"),
        ("rebind.test", "127.0.0.1"),
    ]);
    let client = client(allow_hosts(&["origin.test", "hop.test"]), resolver);
    for (n, target) in targets.iter().enumerate() {
        let refused = get_refused(&client, &format!("http://origin.test:{s}/start/{n}")).await;
        let want = if n == targets.len() - 1 {
            "metadata"
        } else {
            "loopback"
        };
        assert_eq!(class(&refused), want, "redirect to {target}");
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), targets.len() * 2, "origin and hop, every time");
    assert_eq!(trap.hits().await, 0);
}

#[tokio::test]
async fn a_redirect_to_another_scheme_or_nowhere_is_refused() {
    let (listener, s) = loopback_listener().await;
    serve(listener, |req| match req.path.as_str() {
        "/file" => Reply::redirect("301 Moved Permanently", "file:///etc/passwd"),
        "/gopher" => Reply::redirect("307 Temporary Redirect", "gopher://127.0.0.1:6379/_INFO"),
        "/creds" => Reply::redirect("308 Permanent Redirect", "http://user:pw@origin.test/"),
        "/bad" => Reply::redirect("302 Found", "http://[::1/"),
        _ => Reply {
            status: "302 Found",
            headers: Vec::new(),
            body: String::new(),
        },
    });
    let client = client(
        allow_hosts(&["origin.test"]),
        MapResolver::with(&[("origin.test", "127.0.0.1")]),
    );
    let base = format!("http://origin.test:{s}");
    assert_eq!(
        get_refused(&client, &format!("{base}/file")).await,
        Refused::Scheme("file".into())
    );
    assert_eq!(
        get_refused(&client, &format!("{base}/gopher")).await,
        Refused::Scheme("gopher".into())
    );
    assert_eq!(
        get_refused(&client, &format!("{base}/creds")).await,
        Refused::Credentials
    );
    assert!(matches!(
        get_refused(&client, &format!("{base}/bad")).await,
        Refused::BadRedirect(_)
    ));
    assert!(matches!(
        get_refused(&client, &format!("{base}/no-location")).await,
        Refused::BadRedirect(_)
    ));
}

#[tokio::test]
async fn redirects_stop_after_max_redirects() {
    let (listener, s) = loopback_listener().await;
    let seen = serve(listener, |req| {
        // /loop/N goes on forever; /chain/N ends with a 200 at N = 3.
        let (kind, n) = req.path[1..].split_once('/').unwrap();
        let n: usize = n.parse().unwrap();
        if kind == "chain" && n == 3 {
            return Reply::ok("end");
        }
        Reply::redirect("302 Found", &format!("/{kind}/{}", n + 1))
    });
    let policy = Policy {
        max_redirects: 3,
        ..allow_hosts(&["loop.test"])
    };
    let client = client(policy, MapResolver::with(&[("loop.test", "127.0.0.1")]));
    assert_eq!(
        get_refused(&client, &format!("http://loop.test:{s}/loop/0")).await,
        Refused::TooManyRedirects(3)
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        4,
        "the first request and 3 redirects"
    );

    // Exactly max_redirects redirects is fine, and the response knows where it ended.
    let response = client
        .get(
            &url(&format!("http://loop.test:{s}/chain/0")),
            HeaderMap::new(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), "/chain/3");
    assert_eq!(response.text().await.unwrap(), "end");
}

#[tokio::test]
async fn headers_go_with_every_hop_and_credentials_stay_on_their_origin() {
    let (listener, s) = loopback_listener().await;
    let seen = serve(listener, move |req| match (req.host(), req.path.as_str()) {
        ("origin.test", "/video") => Reply::redirect("303 See Other", "/moved"),
        ("origin.test", "/moved") => {
            Reply::redirect("302 Found", &format!("http://hop.test:{s}/video.mp4"))
        }
        _ => Reply {
            status: "206 Partial Content",
            headers: vec![("content-range", "bytes 0-3/10".to_owned())],
            body: "0123".to_owned(),
        },
    });
    let client = client(
        allow_hosts(&["origin.test", "hop.test"]),
        MapResolver::with(&[("origin.test", "127.0.0.1"), ("hop.test", "127.0.0.1")]),
    );
    let mut headers = HeaderMap::new();
    headers.insert(header::RANGE, HeaderValue::from_static("bytes=0-3"));
    headers.insert(header::IF_RANGE, HeaderValue::from_static("\"v1\""));
    headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
    let response = client
        .get(&url(&format!("http://origin.test:{s}/video")), headers)
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(
        response.url().as_str(),
        format!("http://hop.test:{s}/video.mp4")
    );
    assert_eq!(response.bytes().await.unwrap(), "0123");

    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/video", "/moved", "/video.mp4"]);
    for req in &seen {
        assert_eq!(req.method, "GET");
        assert_eq!(req.header("range"), Some("bytes=0-3"), "{}", req.path);
        assert_eq!(req.header("if-range"), Some("\"v1\""), "{}", req.path);
        assert!(req.header("user-agent").unwrap().starts_with("Kadr/"));
    }
    assert_eq!(seen[0].header("authorization"), Some("Bearer t"));
    assert_eq!(seen[1].header("authorization"), Some("Bearer t"));
    assert_eq!(seen[2].header("authorization"), None, "another origin");
}

// ---------------------------------------------------------------------------------------------
// The allow-list

#[tokio::test]
async fn the_allow_list_lets_one_internal_host_through() {
    let (listener, s) = loopback_listener().await;
    let seen = serve(listener, |_| Reply::ok("hello"));
    let resolver = MapResolver::with(&[
        ("media.internal", "127.0.0.1"),
        ("other.internal", "127.0.0.1"),
    ]);

    let allowed = client(allow_hosts(&["media.internal"]), Arc::clone(&resolver));
    for name in ["media.internal", "MEDIA.internal."] {
        let response = allowed
            .get(&url(&format!("http://{name}:{s}/")), HeaderMap::new())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "hello");
    }
    let refused = get_refused(&allowed, &format!("http://other.internal:{s}/")).await;
    assert_eq!(class(&refused), "loopback");
    // A name on the list does not open its address to other spellings.
    let refused = get_refused(&allowed, &format!("http://127.0.0.1:{s}/")).await;
    assert_eq!(class(&refused), "loopback");

    let by_net = Client::new(allow_loopback()).unwrap();
    let response = by_net
        .get(&url(&format!("http://127.0.0.1:{s}/")), HeaderMap::new())
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "hello");
    let refused = get_refused(&by_net, &format!("http://127.0.0.2:{s}/")).await;
    assert_eq!(class(&refused), "loopback");

    assert_eq!(seen.lock().unwrap().len(), 3);
}

// ---------------------------------------------------------------------------------------------
// POST

#[tokio::test]
async fn post_returns_a_redirect_instead_of_following_it() {
    let trap = Trap::bind("127.0.0.1:0").await.unwrap();
    let t = trap.port;
    let (listener, s) = loopback_listener().await;
    let seen = serve(listener, move |_| {
        Reply::redirect("302 Found", &format!("http://127.0.0.1:{t}/"))
    });
    let client = client(
        allow_hosts(&["hooks.test"]),
        MapResolver::with(&[("hooks.test", "127.0.0.1")]),
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let response = client
        .post(
            &url(&format!("http://hooks.test:{s}/hook")),
            headers,
            Bytes::from_static(b"{\"event\":\"published\"}"),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()[header::LOCATION],
        format!("http://127.0.0.1:{t}/").as_str()
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body, b"{\"event\":\"published\"}");
    assert_eq!(seen[0].header("content-type"), Some("application/json"));

    // A POST straight to loopback never connects.
    let got = client
        .post(
            &url(&format!("http://127.0.0.1:{t}/hook")),
            HeaderMap::new(),
            Bytes::from_static(b"x"),
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(class(got.unwrap_err().refused().unwrap()), "loopback");
    assert_eq!(trap.hits().await, 0);
}

#[tokio::test]
async fn post_gives_up_after_its_timeout() {
    // A server that accepts and never answers.
    let (listener, s) = loopback_listener().await;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let client = Client::new(allow_loopback()).unwrap();
    let started = std::time::Instant::now();
    let got = client
        .post(
            &url(&format!("http://127.0.0.1:{s}/slow")),
            HeaderMap::new(),
            Bytes::from_static(b"x"),
            Duration::from_millis(300),
        )
        .await;
    assert!(matches!(got, Err(Error::Timeout)), "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let (listener, s) = loopback_listener().await;
    drop(listener);
    let client = Client::new(allow_loopback()).unwrap();
    let got = client
        .get(&url(&format!("http://127.0.0.1:{s}/")), HeaderMap::new())
        .await;
    assert!(matches!(got, Err(Error::Connect(_))), "{got:?}");
}
