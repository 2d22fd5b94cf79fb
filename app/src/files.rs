//! The front end's files as the build named them, and the script that loads the bundle. A
//! release build names the wasm, js and stylesheets by their content and lists the hashes in a hash file beside the server binary
//! (`js: <hash>`, one line each); pages must ask for those names, and the server caches them
//! for a year. Two stylesheets: the patient pages' (`css`, built by cargo-leptos from
//! `style/main.css`) holds only what the widget uses, since it counts against the widget's
//! download budget; the console's and the desk's (`console-css`, `style/console.css`, built by
//! `scripts/console-style.mjs`) holds every page's classes. A build without the console's
//! falls back to the patient one.

use leptos::prelude::LeptosOptions;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

/// Which pages a stylesheet serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    /// The booking and manage pages (and any page that is neither of the others).
    Patient,
    /// The admin console and the front desk, behind staff sign-in.
    Staff,
}

impl Sheet {
    /// The stylesheet for the page at `path`.
    pub fn for_path(path: &str) -> Sheet {
        let under = |prefix: &str| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if under("/admin") || under("/desk") {
            Sheet::Staff
        } else {
            Sheet::Patient
        }
    }
}

/// Where the hash file is read from: its name taken from the directory of the running binary
/// (an absolute name stands for itself).
pub fn hash_file(options: &LeptosOptions) -> PathBuf {
    let dir = std::env::current_exe().ok().and_then(|exe| exe.parent().map(std::path::Path::to_path_buf)).unwrap_or_default();
    dir.join(options.hash_file.as_ref())
}

/// The names of one build's files under the package directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    module: String,
    wasm: String,
    stylesheet: String,
    console_stylesheet: Option<String>,
    /// The names that change with the content: cacheable for ever.
    content_named: HashSet<String>,
}

impl Names {
    fn read(options: &LeptosOptions) -> Names {
        let output = options.output_name.to_string();
        let mut hashes = Vec::new();
        if options.hash_files {
            let text = std::fs::read_to_string(hash_file(options)).unwrap_or_default();
            hashes = text
                .lines()
                .filter_map(|line| line.split_once(':'))
                .map(|(kind, hash)| (kind.trim().to_owned(), hash.trim().to_owned()))
                .filter(|(_, hash)| !hash.is_empty())
                .collect();
        }
        let hash = |kind: &str| hashes.iter().find(|(k, _)| k == kind).map(|(_, h)| h.as_str());
        let named = |stem: &str, kind: &str, ext: &str| match hash(kind) {
            Some(h) => format!("{stem}.{h}.{ext}"),
            None => format!("{stem}.{ext}"),
        };
        let console = format!("{output}-console");
        let content_named = [("js", output.as_str(), "js"), ("wasm", output.as_str(), "wasm"), ("css", output.as_str(), "css"), ("console-css", console.as_str(), "css")]
            .into_iter()
            .filter(|(kind, ..)| hash(kind).is_some())
            .map(|(kind, stem, ext)| named(stem, kind, ext))
            .collect();
        // Without content names, a build by cargo-leptos calls the wasm `<output>.wasm` and
        // wasm-bindgen alone `<output>_bg.wasm`.
        let wasm = match (hash("wasm"), option_env!("LEPTOS_OUTPUT_NAME")) {
            (None, None) => format!("{output}_bg.wasm"),
            _ => named(&output, "wasm", "wasm"),
        };
        Names {
            module: named(&output, "js", "js"),
            wasm,
            stylesheet: named(&output, "css", "css"),
            console_stylesheet: hash("console-css").map(|_| named(&console, "console-css", "css")),
            content_named,
        }
    }

    /// The names of the build `options` describe. The hash file is read once per process and
    /// options: a build comes with its own server binary.
    pub fn of(options: &LeptosOptions) -> Arc<Names> {
        type Key = (bool, String, String);
        static READ: Mutex<Vec<(Key, Arc<Names>)>> = Mutex::new(Vec::new());
        let key = (options.hash_files, options.hash_file.to_string(), options.output_name.to_string());
        let mut read = READ.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, names)) = read.iter().find(|(k, _)| *k == key) {
            return names.clone();
        }
        let names = Arc::new(Names::read(options));
        read.push((key, names.clone()));
        names
    }

    /// The file name of the bundle's JavaScript module.
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The file name of the bundle's WebAssembly.
    pub fn wasm(&self) -> &str {
        &self.wasm
    }

    /// The file name of the stylesheet for `sheet`.
    pub fn stylesheet(&self, sheet: Sheet) -> &str {
        match (sheet, &self.console_stylesheet) {
            (Sheet::Staff, Some(console)) => console,
            _ => &self.stylesheet,
        }
    }

    pub fn is_content_named(&self, file: &str) -> bool {
        self.content_named.contains(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_pages_are_the_console_and_the_desk_and_nothing_that_only_starts_like_them() {
        for staff in ["/admin", "/admin/login", "/desk", "/desk/book/patient"] {
            assert_eq!(Sheet::for_path(staff), Sheet::Staff, "{staff}");
        }
        for patient in ["/book/demo", "/manage/abc", "/", "/administer", "/desks", "/book/admin"] {
            assert_eq!(Sheet::for_path(patient), Sheet::Patient, "{patient}");
        }
    }

    fn options(hash_file: &std::path::Path) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("booking")
            .hash_files(true)
            .hash_file(Arc::<str>::from(hash_file.to_string_lossy().as_ref()))
            .build()
    }

    /// The names of a build whose hash file lists `listing` (`tag` keeps each test's file apart).
    fn names_from(listing: &str, tag: &str) -> Names {
        let file = std::env::temp_dir().join(format!("booking-hashes-{}-{tag}.txt", std::process::id()));
        std::fs::write(&file, listing).unwrap();
        let names = Names::read(&options(&file));
        std::fs::remove_file(&file).unwrap();
        names
    }

    #[test]
    fn a_build_with_a_console_stylesheet_names_it_for_staff_pages_and_caches_every_named_file() {
        let names = names_from("js: J1\nwasm: W2\ncss: C3\nconsole-css: S4\n", "a");
        assert_eq!((names.module(), names.wasm()), ("booking.J1.js", "booking.W2.wasm"));
        assert_eq!(names.stylesheet(Sheet::Patient), "booking.C3.css");
        assert_eq!(names.stylesheet(Sheet::Staff), "booking-console.S4.css");
        for named in ["booking.J1.js", "booking.W2.wasm", "booking.C3.css", "booking-console.S4.css"] {
            assert!(names.is_content_named(named), "{named}");
        }
        assert!(!names.is_content_named("booking.css") && !names.is_content_named("frame.js"));
    }

    #[test]
    fn a_build_without_a_console_stylesheet_gives_staff_pages_the_patient_one() {
        let names = names_from("js: J1\nwasm: W2\ncss: C3\n", "b");
        assert_eq!(names.stylesheet(Sheet::Staff), "booking.C3.css");
        assert!(!names.is_content_named("booking-console.css"));
    }

    #[test]
    fn without_hashed_names_the_plain_names_are_used_and_nothing_is_cached_for_ever() {
        let names = Names::read(&LeptosOptions::builder().output_name("booking").build());
        assert_eq!(names.module(), "booking.js");
        assert_eq!(names.stylesheet(Sheet::Patient), "booking.css");
        assert_eq!(names.stylesheet(Sheet::Staff), "booking.css");
        assert!(!names.is_content_named("booking.css"));
    }
}

/// Loads the bundle and hydrates the page's islands, in place of Leptos's `HydrationScripts`
/// (whose loader is six times the size, rereads the hash file on every page, and waits for
/// the browser to be idle before it even starts the download). The module and its wasm are
/// preloaded with the page; once both are in, each island is hydrated in document order, as
/// Leptos's own loader does (no island of ours takes children, so none needs its callbacks).
#[leptos::component]
pub fn IslandScripts(options: LeptosOptions) -> impl leptos::IntoView {
    use leptos::prelude::*;
    // As Leptos's loader does: the server renders islands mode's HTML, markers only inside islands.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let names = Names::of(&options);
    let pkg = &options.site_pkg_dir;
    let (module, wasm) = (format!("/{pkg}/{}", names.module()), format!("/{pkg}/{}", names.wasm()));
    let script = format!(
        r#"import init,*as m from"{module}";init({{module_or_path:"{wasm}"}}).then(async()=>{{m.hydrate();for(const e of document.querySelectorAll("leptos-island"))await m[e.dataset.component]?.(e)}})"#
    );
    view! {
        <link rel="modulepreload" href=module/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin=""/>
        // No nonce: no policy of ours asks for one, and a booking page is served byte for byte
        // to many patients (`server::pages`), where a nonce would be one nobody could trust.
        <script type="module" inner_html=script></script>
    }
}
