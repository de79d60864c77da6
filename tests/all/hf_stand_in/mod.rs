//! A stand-in for the Hugging Face hub on 127.0.0.1, speaking the parts of the protocol that
//! hf-hub and `gem pull` use, as huggingface.co answers them:
//!
//! - `GET /api/models/ORG/REPO[/revision/REV][?blobs=true]`: `{id, sha, gated, siblings:
//!   [{rfilename, size, lfs: {sha256, size}}]}`; `GET /api/models/ORG/REPO/tree/REV`: the
//!   `[{type, path, size, oid, lfs}]` list;
//! - `GET|HEAD /ORG/REPO/resolve/REV/FILE`: for LFS files a 302 to `/cdn-lfs/SHA256` carrying
//!   `ETag`/`X-Linked-Etag` (the sha256), `X-Linked-Size` and `X-Repo-Commit`; small files
//!   are served in place with their git-blob ETag;
//! - `GET /cdn-lfs/SHA256`: the bytes, with `Range: bytes=S-[E]` → 206 + `Content-Range`,
//!   a range past the end → 416;
//! - errors as the hub words them: an unknown repository is `401` with
//!   `X-Error-Code: RepoNotFound` (what the hub answers without a token), a gated file without
//!   `Authorization` is `401` with `X-Error-Code: GatedRepo`, a missing file `404`
//!   `EntryNotFound`.
//!
//! Per-file behaviours simulate what goes wrong on real networks: a transfer cut once after N
//! bytes (the connection aborts mid-body), bytes that do not match the promised sha256, a slow
//! trickle (time to press Ctrl-C). Every request is logged for the tests to inspect.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// What a file's transfers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Served faithfully.
    Normal,
    /// The first transfer that reaches this byte aborts the connection there; later ones are
    /// served faithfully.
    CutOnceAt(usize),
    /// One byte in the middle is wrong, while the headers promise the true sha256.
    Corrupt,
    /// Served in 4 KiB pieces, 25 ms apart.
    Slow,
}

/// A file of a stand-in repository.
#[derive(Debug, Clone)]
pub struct FakeFile {
    /// The repository path.
    pub path: String,
    /// The content.
    pub bytes: Arc<Vec<u8>>,
    /// Stored in LFS (a GGUF): served through the CDN redirect, ETag = sha256.
    pub lfs: bool,
    /// What its transfers do.
    pub behaviour: Behaviour,
    cut_done: Arc<AtomicBool>,
}

impl FakeFile {
    /// An LFS file served faithfully.
    pub fn lfs(path: &str, bytes: Vec<u8>) -> Self {
        Self {
            path: path.to_string(),
            bytes: Arc::new(bytes),
            lfs: true,
            behaviour: Behaviour::Normal,
            cut_done: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A small git (non-LFS) file.
    pub fn git(path: &str, text: &str) -> Self {
        Self {
            lfs: false,
            ..Self::lfs(path, text.as_bytes().to_vec())
        }
    }

    /// The same file with another behaviour.
    pub fn with(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    /// Its sha256, lower-case hex.
    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(self.bytes.as_slice()))
    }

    /// Its git blob id (what the hub's ETag is for non-LFS files).
    fn git_oid(&self) -> String {
        // A stand-in only needs a stable 40-hex id distinct from the sha256.
        hex(&Sha256::digest(self.bytes.as_slice()))[..40].to_string()
    }
}

/// A stand-in repository.
#[derive(Debug, Clone)]
pub struct FakeRepo {
    /// `ORG/REPO`.
    pub id: String,
    /// The commit `main` points at (40 hex).
    pub commit: String,
    /// Its files.
    pub files: Vec<FakeFile>,
    /// Files need `Authorization` (the repository is gated).
    pub gated: bool,
}

impl FakeRepo {
    /// A public repository.
    pub fn new(id: &str, files: Vec<FakeFile>) -> Self {
        let commit = hex(&Sha256::digest(id.as_bytes()))[..40].to_string();
        Self {
            id: id.to_string(),
            commit,
            files,
            gated: false,
        }
    }

    /// The same repository, gated.
    pub fn gated(mut self) -> Self {
        self.gated = true;
        self
    }
}

/// One request the stand-in answered.
#[derive(Debug, Clone)]
pub struct Logged {
    /// `GET` or `HEAD`.
    pub method: String,
    /// The path and query.
    pub uri: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// Whether `Authorization` was sent.
    pub authorized: bool,
    /// The answer's status.
    pub status: u16,
}

struct Shared {
    endpoint: String,
    repos: Vec<FakeRepo>,
    log: Mutex<Vec<Logged>>,
}

/// A running stand-in; stops when dropped.
pub struct StandIn {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StandIn {
    /// Serves `repos` on a free port of 127.0.0.1.
    pub fn start(repos: Vec<FakeRepo>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            endpoint: endpoint.clone(),
            repos,
            log: Mutex::new(Vec::new()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(answer).with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            endpoint,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.shared.log.lock().unwrap().clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Graceful shutdown waits for open connections; a test's client is gone by now.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let method = request.method().clone();
    let uri = request.uri().to_string();
    let headers = request.headers().clone();
    let response = route(&shared, &method, request.uri().path(), &headers);
    shared.log.lock().unwrap().push(Logged {
        method: method.to_string(),
        uri,
        range: headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        authorized: headers.contains_key(header::AUTHORIZATION),
        status: response.status().as_u16(),
    });
    response
}

fn route(shared: &Shared, method: &Method, path: &str, headers: &HeaderMap) -> Response {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", "models", org, repo, rest @ ..] => {
            let Some(repo) = find_repo(shared, org, repo) else {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "RepoNotFound",
                    "Repository not found",
                );
            };
            match rest {
                [] | ["revision", _] => info(repo),
                ["tree", _, ..] => tree(repo),
                _ => error(StatusCode::NOT_FOUND, "", "Not found"),
            }
        }
        ["cdn-lfs", sha] => cdn(shared, method, sha, headers),
        [org, repo, "resolve", revision, file @ ..] => {
            let Some(repo) = find_repo(shared, org, repo) else {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "RepoNotFound",
                    "Repository not found",
                );
            };
            if *revision != "main" && *revision != repo.commit {
                return error(StatusCode::NOT_FOUND, "RevisionNotFound", "Invalid rev id");
            }
            resolve(shared, repo, &file.join("/"), method, headers)
        }
        _ => error(StatusCode::NOT_FOUND, "", "Not found"),
    }
}

fn find_repo<'a>(shared: &'a Shared, org: &str, repo: &str) -> Option<&'a FakeRepo> {
    let id = format!("{org}/{repo}");
    shared.repos.iter().find(|r| r.id == id)
}

fn info(repo: &FakeRepo) -> Response {
    let siblings: Vec<serde_json::Value> = repo
        .files
        .iter()
        .map(|f| {
            let mut s = serde_json::json!({
                "rfilename": f.path,
                "size": f.bytes.len(),
                "blobId": f.git_oid(),
            });
            if f.lfs {
                s["lfs"] = serde_json::json!({
                    "sha256": f.sha256(), "size": f.bytes.len(), "pointerSize": 134
                });
            }
            s
        })
        .collect();
    json(serde_json::json!({
        "_id": "0".repeat(24),
        "id": repo.id,
        "modelId": repo.id,
        "sha": repo.commit,
        "private": false,
        "gated": if repo.gated { serde_json::json!("manual") } else { serde_json::json!(false) },
        "disabled": false,
        "library_name": "gguf",
        "tags": ["gguf", "gemma4"],
        "siblings": siblings,
    }))
}

fn tree(repo: &FakeRepo) -> Response {
    let entries: Vec<serde_json::Value> = repo
        .files
        .iter()
        .map(|f| {
            let mut e = serde_json::json!({
                "type": "file", "oid": f.git_oid(), "size": f.bytes.len(), "path": f.path
            });
            if f.lfs {
                e["lfs"] = serde_json::json!({
                    "oid": f.sha256(), "size": f.bytes.len(), "pointerSize": 134
                });
            }
            e
        })
        .collect();
    json(serde_json::Value::Array(entries))
}

fn resolve(
    shared: &Shared,
    repo: &FakeRepo,
    file: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Response {
    if repo.gated && !headers.contains_key(header::AUTHORIZATION) {
        return error(
            StatusCode::UNAUTHORIZED,
            "GatedRepo",
            &format!(
                "Access to model {} is restricted. You must have access to it and be authenticated to access it. Please log in.",
                repo.id
            ),
        );
    }
    let Some(f) = repo.files.iter().find(|f| f.path == file) else {
        return error(
            StatusCode::NOT_FOUND,
            "EntryNotFound",
            &format!("{file} does not exist"),
        );
    };
    if f.lfs {
        let etag = format!("\"{}\"", f.sha256());
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(
                header::LOCATION,
                format!("{}/cdn-lfs/{}", shared.endpoint, f.sha256()),
            )
            .header(header::ETAG, &etag)
            .header("x-linked-etag", &etag)
            .header("x-linked-size", f.bytes.len())
            .header("x-repo-commit", &repo.commit)
            .header(header::CONTENT_LENGTH, 0)
            .body(Body::empty())
            .unwrap();
    }
    let mut response = serve_bytes(f, method, headers);
    let h = response.headers_mut();
    h.insert(header::ETAG, value(&format!("\"{}\"", f.git_oid())));
    h.insert("x-repo-commit", value(&repo.commit));
    response
}

fn cdn(shared: &Shared, method: &Method, sha: &str, headers: &HeaderMap) -> Response {
    let file = shared
        .repos
        .iter()
        .flat_map(|r| r.files.iter())
        .find(|f| f.lfs && f.sha256() == sha);
    match file {
        Some(f) => serve_bytes(f, method, headers),
        None => error(StatusCode::NOT_FOUND, "", "NoSuchKey"),
    }
}

/// The file's bytes (or the requested range of them) as its behaviour dictates.
fn serve_bytes(f: &FakeFile, method: &Method, headers: &HeaderMap) -> Response {
    let total = f.bytes.len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| parse_range(r, total));
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, total),
        Some(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end),
        Some(None) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{total}"))
                .body(Body::empty())
                .unwrap();
        }
    };
    let mut content = f.bytes[start..end].to_vec();
    if f.behaviour == Behaviour::Corrupt && !content.is_empty() {
        let middle = total / 2;
        if (start..end).contains(&middle) {
            content[middle - start] ^= 0xff;
        }
    }
    let mut builder = Response::builder()
        .status(status)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, content.len())
        .header(header::ETAG, format!("\"{}\"", f.sha256()));
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{total}", end - 1),
        );
    }
    if method == Method::HEAD {
        return builder.body(Body::empty()).unwrap();
    }
    let body = match f.behaviour {
        Behaviour::CutOnceAt(at)
            if start < at && at < end && !f.cut_done.swap(true, Ordering::SeqCst) =>
        {
            let sent = Bytes::from(content[..at - start].to_vec());
            let pieces: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(sent),
                Err(std::io::Error::other("the stand-in cuts the transfer here")),
            ];
            Body::from_stream(futures_util::stream::iter(pieces))
        }
        Behaviour::Slow => {
            let chunks: Vec<Bytes> = content
                .chunks(4096)
                .map(|c| Bytes::from(c.to_vec()))
                .collect();
            let stream = futures_util::stream::unfold(chunks.into_iter(), |mut rest| async move {
                let next = rest.next()?;
                tokio::time::sleep(Duration::from_millis(25)).await;
                Some((Ok::<_, Infallible>(next), rest))
            });
            Body::from_stream(stream)
        }
        _ => Body::from(content),
    };
    builder.body(body).unwrap()
}

/// `bytes=S-` / `bytes=S-E` → `(S, E + 1)` within `total`; `None` when unsatisfiable.
fn parse_range(value: &str, total: usize) -> Option<(usize, usize)> {
    let spec = value.strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start: usize = start.parse().ok()?;
    let end = if end.is_empty() {
        total
    } else {
        (end.parse::<usize>().ok()? + 1).min(total)
    };
    (start < end).then_some((start, end))
}

fn json(value: serde_json::Value) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(value.to_string()))
        .unwrap()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json");
    if !code.is_empty() {
        builder = builder.header("x-error-code", code);
    }
    builder
        .body(Body::from(
            serde_json::json!({ "error": message }).to_string(),
        ))
        .unwrap()
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
