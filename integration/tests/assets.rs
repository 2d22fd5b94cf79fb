//! The front end's files under `/pkg` over real HTTP: compressed once at the strongest settings
//! and kept, revalidated by `ETag`, a rebuilt file noticed at once, and nothing outside the
//! package directory reachable.

use leptos::prelude::LeptosOptions;
use std::io::Read;
use std::time::Duration;
use store::links::LinkKey;
use store::testing::{fresh_db, TempDir};
use store::Backend;

/// A server whose site root is a fresh directory holding `pkg/app.wasm` (compressible, like a
/// real build) and a file beside `pkg`: the base URL, the directory and the wasm bytes.
async fn serve() -> (String, TempDir, Vec<u8>) {
    let dir = TempDir::new("booking-assets-");
    let options = LeptosOptions::builder().output_name("booking").site_root(dir.0.to_string_lossy().to_string()).build();
    let (base, wasm) = serve_in(&dir, options).await;
    (base, dir, wasm)
}

async fn serve_in(dir: &TempDir, options: LeptosOptions) -> (String, Vec<u8>) {
    std::fs::create_dir_all(dir.0.join("pkg")).unwrap();
    let wasm: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8 ^ (i / 4096) as u8).collect();
    std::fs::write(dir.0.join("pkg/app.wasm"), &wasm).unwrap();
    std::fs::write(dir.0.join("secret.txt"), "outside the package directory").unwrap();
    let db = fresh_db(Backend::Sqlite).await;
    store::testing::seeded_demo(&db.store, chrono::Utc::now()).await;
    let app = server::router(db.store.clone(), LinkKey::from_passphrase("assets test"), options, &server::api::ApiOptions::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _db = db; // the database lives as long as the server
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    (format!("http://{addr}"), wasm)
}

async fn get(base: &str, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    // No automatic decompression: the test sees the bytes on the wire.
    let http = reqwest::Client::builder().no_brotli().no_gzip().build().unwrap();
    let mut req = http.get(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// Waits until the background compression has finished: the answer comes as stored brotli.
async fn stored_brotli(base: &str, path: &str) -> reqwest::Response {
    for _ in 0..200 {
        let r = get(base, path, &[("accept-encoding", "br")]).await;
        // On the fly the general layer compresses too, but streams it: no content-length.
        if r.headers().get("content-encoding").is_some_and(|v| v == "br") && r.headers().get("content-length").is_some() {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the file was never served from its stored compression");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_files_are_sent_brotli_compressed_at_the_strongest_setting_and_revalidated_by_etag() {
    let (base, _dir, wasm) = serve().await;
    let first = get(&base, "/pkg/app.wasm", &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "application/wasm");
    assert_eq!(first.headers()["cache-control"], "no-cache");
    assert_eq!(first.bytes().await.unwrap().to_vec(), wasm, "without accept-encoding: the file as built");

    let r = stored_brotli(&base, "/pkg/app.wasm").await;
    assert_eq!(r.headers()["vary"], "accept-encoding");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let body = r.bytes().await.unwrap();
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, wasm);
    let mut q11 = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &wasm[..], &mut q11, &params).unwrap();
    assert_eq!(body.len(), q11.len(), "quality 11, not the on-the-fly setting");

    let gz = get(&base, "/pkg/app.wasm", &[("accept-encoding", "gzip, br;q=0")]).await;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gz.bytes().await.unwrap()[..]).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, wasm);

    let again = get(&base, "/pkg/app.wasm", &[("accept-encoding", "br"), ("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_file_is_sent_as_rebuilt_and_nothing_outside_the_package_is_reachable() {
    let (base, dir, wasm) = serve().await;
    let old = stored_brotli(&base, "/pkg/app.wasm").await;
    let old_etag = old.headers()["etag"].to_str().unwrap().to_owned();
    let rebuilt: Vec<u8> = wasm.iter().rev().copied().chain([1, 2, 3]).collect();
    std::fs::write(dir.0.join("pkg/app.wasm"), &rebuilt).unwrap();
    let now = get(&base, "/pkg/app.wasm", &[("if-none-match", &old_etag)]).await;
    assert_eq!(now.status(), 200, "the old tag no longer matches");
    assert_eq!(now.bytes().await.unwrap().to_vec(), rebuilt);
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&stored_brotli(&base, "/pkg/app.wasm").await.bytes().await.unwrap()[..], 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, rebuilt, "never the old file's compression");

    for path in ["/pkg/..%2Fsecret.txt", "/pkg/%2E%2E%2Fsecret.txt", "/pkg/missing.js", "/pkg/.hidden"] {
        let r = get(&base, path, &[]).await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(!r.text().await.unwrap().contains("outside the package"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_builds_content_named_files_are_asked_for_by_the_page_sent_precompressed_and_cached_for_a_year() {
    let dir = TempDir::new("booking-assets-");
    // What the release build leaves: content-named files, each with its .br and .gz, and
    // the hash file listing the names (here by an absolute name instead of beside the binary).
    // The console's stylesheet is listed as `console-css` and named `booking-console.<hash>.css`.
    let files = [("js", "Js_h4sh-1", "booking.Js_h4sh-1.js"), ("wasm", "W4sm_h4sh-2", "booking.W4sm_h4sh-2.wasm"), ("css", "Css_h4sh-3", "booking.Css_h4sh-3.css"), ("console-css", "Con_h4sh-4", "booking-console.Con_h4sh-4.css")];
    std::fs::create_dir_all(dir.0.join("pkg")).unwrap();
    let mut listing = String::new();
    for (kind, hash, name) in files {
        let raw = format!("/* {name} */ {}", "the build output ".repeat(200));
        std::fs::write(dir.0.join("pkg").join(name), &raw).unwrap();
        // Marked so that the test sees these very bytes sent, not a compression of its own.
        std::fs::write(dir.0.join("pkg").join(format!("{name}.br")), format!("stored brotli of {name}")).unwrap();
        std::fs::write(dir.0.join("pkg").join(format!("{name}.gz")), format!("stored gzip of {name}")).unwrap();
        listing.push_str(&format!("{kind}: {hash}\n"));
    }
    let hash_file = dir.0.join("hash.txt");
    std::fs::write(&hash_file, listing).unwrap();
    let options = LeptosOptions::builder()
        .output_name("booking")
        .site_root(dir.0.to_string_lossy().to_string())
        .hash_files(true)
        .hash_file(std::sync::Arc::<str>::from(hash_file.to_string_lossy().as_ref()))
        .build();
    let (base, _) = serve_in(&dir, options).await;

    let page = get(&base, "/book/demo", &[]).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers().get("cache-control"), None, "pages are not cached");
    let html = page.text().await.unwrap();
    for name in ["booking.Js_h4sh-1.js", "booking.W4sm_h4sh-2.wasm", "booking.Css_h4sh-3.css"] {
        assert!(html.contains(&format!("/pkg/{name}")), "the page does not ask for {name}");
    }
    assert!(!html.contains("/pkg/booking.js") && !html.contains("/pkg/booking.css"), "the page asks for a plain name");
    assert!(!html.contains("booking-console"), "a patient page asks for the console's stylesheet");
    // The console's pages ask for their own stylesheet instead of the patient pages' one.
    let console = get(&base, "/admin/login", &[]).await.text().await.unwrap();
    assert!(console.contains("/pkg/booking-console.Con_h4sh-4.css"), "the sign-in page does not ask for the console's stylesheet");
    assert!(!console.contains("booking.Css_h4sh-3.css"), "the sign-in page asks for the patient pages' stylesheet");

    for (_, _, name) in files {
        let path = format!("/pkg/{name}");
        let br = get(&base, &path, &[("accept-encoding", "gzip, br")]).await;
        assert_eq!(br.status(), 200, "{path}");
        assert_eq!(br.headers()["cache-control"], "public, max-age=31536000, immutable", "{path}");
        assert_eq!(br.headers()["content-encoding"], "br", "{path}");
        assert_eq!(br.text().await.unwrap(), format!("stored brotli of {name}"), "the first request already gets the build's brotli");
        let gz = get(&base, &path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(gz.text().await.unwrap(), format!("stored gzip of {name}"));
        let plain = get(&base, &path, &[]).await;
        assert!(plain.headers().get("content-encoding").is_none());
        assert!(plain.text().await.unwrap().starts_with(&format!("/* {name} */")));
    }

    // A file rebuilt after its .br was written is not sent with the stale one; a file the
    // hash file does not name is revalidated, not cached for a year.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(dir.0.join("pkg/other.js"), "// not named by content").unwrap();
    std::fs::write(dir.0.join("pkg/other.js.br"), "old").unwrap();
    std::fs::write(dir.0.join("pkg/other.js.gz"), "old").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(dir.0.join("pkg/other.js"), "// rebuilt, not named by content ".repeat(50)).unwrap();
    let other = get(&base, "/pkg/other.js", &[("accept-encoding", "br")]).await;
    assert_eq!(other.headers()["cache-control"], "no-cache");
    let body = other.bytes().await.unwrap();
    assert_ne!(&body[..], b"old", "a precompressed file older than its source is not sent");
}
