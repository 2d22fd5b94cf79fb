//! The front end's build output under `/pkg` (wasm, js, css), sent compressed at the strongest
//! settings. A release build precompresses every file (`name.br` at brotli quality 11 and
//! `name.gz` beside it); those are served as they are. A file without them (a development
//! build, or one rebuilt since) is compressed once, in the background on its first request
//! (which is answered at once, compressed on the fly by the server's general layer): brotli 11
//! takes about a second for a 600 KB wasm file, far too long per request. Either way the
//! result is kept in memory keyed by the file's size and modification time, so a rebuilt file
//! is noticed and what is sent never lags behind what was built.
//!
//! A release build also names the files by their content (`booking.<hash>.wasm`, listed in the
//! hash file next to the server binary): those are cached by browsers for a year, never
//! revalidated (`immutable`), because a new build has new names. Any other file says
//! `Cache-Control: no-cache` with an `ETag`: a returning browser revalidates and gets
//! `304 Not Modified` without a body.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

#[derive(Clone)]
pub struct Assets {
    dir: PathBuf,
    cache: Arc<Mutex<HashMap<String, Arc<Entry>>>>,
    /// This build's file names: which of them are named by their content.
    names: Arc<app::files::Names>,
}

/// What a year of caching is said with; pages themselves are never cached.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

struct Entry {
    len: u64,
    modified: SystemTime,
    etag: String,
    raw: axum::body::Bytes,
    /// Filled by the background compression; empty until then.
    compressed: Mutex<Option<Compressed>>,
}

#[derive(Clone)]
struct Compressed {
    br: axum::body::Bytes,
    gzip: axum::body::Bytes,
}

impl Assets {
    /// The assets under `dir` (the site root's package directory), of the build `names` lists.
    pub fn new(dir: PathBuf, names: Arc<app::files::Names>) -> Self {
        Assets { dir, cache: Arc::default(), names }
    }

    async fn entry(&self, name: &str) -> Option<Arc<Entry>> {
        let path = self.dir.join(name);
        let meta = tokio::fs::metadata(&path).await.ok().filter(|m| m.is_file())?;
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if let Some(hit) = self.cache.lock().expect("asset cache").get(name) {
            if hit.len == meta.len() && hit.modified == modified {
                return Some(hit.clone());
            }
        }
        let raw = axum::body::Bytes::from(tokio::fs::read(&path).await.ok()?);
        let precompressed = precompressed(&path, modified).await;
        // Of the content, so that a rebuild with the same length and time still changes it;
        // weak, because the raw and each compressed body share it.
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&raw);
        let entry = Arc::new(Entry {
            len: meta.len(),
            modified,
            etag: format!("W/\"{}\"", hex::encode(&digest[..12])),
            raw,
            compressed: Mutex::new(precompressed.clone()),
        });
        {
            // Requests that missed together: the first one's entry (and compression) serves all.
            let mut cache = self.cache.lock().expect("asset cache");
            if let Some(hit) = cache.get(name).filter(|hit| hit.len == entry.len && hit.modified == modified) {
                return Some(hit.clone());
            }
            cache.insert(name.to_owned(), entry.clone());
        }
        if precompressed.is_some() {
            return Some(entry);
        }
        let background = entry.clone();
        tokio::task::spawn_blocking(move || {
            let compressed = compress(&background.raw);
            *background.compressed.lock().expect("asset entry") = Some(compressed);
        });
        Some(entry)
    }
}

/// The build's own `name.br` and `name.gz` of the file at `path`, when both exist and are
/// not older than the file itself (a file rebuilt without them is compressed here instead).
async fn precompressed(path: &std::path::Path, modified: SystemTime) -> Option<Compressed> {
    let sibling = |ext: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(ext);
        PathBuf::from(name)
    };
    let mut found = Vec::with_capacity(2);
    for ext in [".br", ".gz"] {
        let sibling = sibling(ext);
        let meta = tokio::fs::metadata(&sibling).await.ok()?;
        if meta.modified().ok()? < modified {
            return None;
        }
        found.push(axum::body::Bytes::from(tokio::fs::read(&sibling).await.ok()?));
    }
    let gzip = found.pop()?;
    let br = found.pop()?;
    Some(Compressed { br, gzip })
}

fn compress(raw: &[u8]) -> Compressed {
    let mut br = Vec::new();
    {
        let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
        brotli::BrotliCompress(&mut &raw[..], &mut br, &params).expect("compressing in memory");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(raw).expect("compressing in memory");
    Compressed { br: br.into(), gzip: gz.finish().expect("compressing in memory").into() }
}

/// Only plain file names of the build output: no paths, no hidden files.
fn allowed(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("wasm") => "application/wasm",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Which of br and gzip the request accepts (`q=0` refuses).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|part| {
        let mut pieces = part.split(';').map(str::trim);
        let name = pieces.next().unwrap_or("");
        let refused = pieces.any(|p| p.replace(' ', "") == "q=0" || p.replace(' ', "") == "q=0.0");
        name.eq_ignore_ascii_case(coding) && !refused
    })
}

pub async fn serve(State(assets): State<Assets>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    if !allowed(&name) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(entry) = assets.entry(&name).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == entry.etag)) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let compressed = entry.compressed.lock().expect("asset entry").clone();
        let (body, encoding) = match compressed {
            Some(c) if accepts(&headers, "br") => (c.br, Some("br")),
            Some(c) if accepts(&headers, "gzip") => (c.gzip, Some("gzip")),
            _ => (entry.raw.clone(), None),
        };
        let mut r = Response::new(Body::from(body));
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&name)));
        if let Some(encoding) = encoding {
            r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        r
    };
    let h = response.headers_mut();
    let cache = if assets.names.is_content_named(&name) { IMMUTABLE } else { "no-cache" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(etag) = HeaderValue::from_str(&entry.etag) {
        h.insert(header::ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_are_served() {
        for ok in ["booking.wasm", "booking.js", "booking_bg.wasm", "booking-1.css"] {
            assert!(allowed(ok), "{ok}");
        }
        for refused in ["", ".env", "../Cargo.toml", "a/b.js", "a\\b.js", "%2e%2e"] {
            assert!(!allowed(refused), "{refused}");
        }
    }

    #[test]
    fn an_encoding_refused_with_q_zero_is_not_used() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(accepts(&with("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(&with("GZIP;q=0.5"), "gzip"));
        assert!(!accepts(&with("br;q=0, gzip"), "br"));
        assert!(!accepts(&with("identity"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "br"));
    }
}
