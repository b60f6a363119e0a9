//! The pages' files, built by Vite from `clients/web` into
//! `clients/web/dist` and embedded in the binary at compile time, so that
//! the binary alone serves them (CI checks that the committed build
//! matches its sources).

use include_dir::{Dir, include_dir};

static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/clients/web/dist");

/// One embedded file and how to serve it.
pub struct Asset {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    pub cache_control: &'static str,
    /// An HTML page (which gets the security headers of a document).
    pub is_page: bool,
}

/// The file for a request path: `/` is the storefront, `/warehouse` the
/// warehouse page, other paths name files of the build.
pub fn find(path: &str) -> Option<Asset> {
    let file = match path {
        "/" => "index.html",
        "/warehouse" => "warehouse.html",
        path => path.strip_prefix('/')?,
    };
    // include_dir never resolves `..`, but say so rather than rely on it.
    if file.split('/').any(|part| part == ".." || part.is_empty()) {
        return None;
    }
    let bytes = DIST.get_file(file)?.contents();
    let extension = file.rsplit_once('.').map_or("", |(_, extension)| extension);
    Some(Asset {
        bytes,
        content_type: content_type(extension),
        // Vite puts a hash of the content in every name under assets/, so
        // those never change; the pages themselves must be asked for anew.
        cache_control: match file.starts_with("assets/") {
            true => "public, max-age=31536000, immutable",
            false => "no-cache",
        },
        is_page: extension == "html",
    })
}

fn content_type(extension: &str) -> &'static str {
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_pages_and_their_scripts_are_embedded() {
        let store = find("/").expect("the storefront");
        assert!(store.is_page && store.content_type.starts_with("text/html"));
        assert_eq!(store.cache_control, "no-cache");
        let warehouse = find("/warehouse").expect("the warehouse page");
        let html = std::str::from_utf8(warehouse.bytes).unwrap();
        let script = html.split("src=\"").nth(1).and_then(|rest| rest.split('"').next());
        let script = find(script.expect("the page loads a script")).expect("its script is embedded");
        assert_eq!(script.content_type, "text/javascript; charset=utf-8");
        assert!(script.cache_control.contains("immutable"));
    }

    #[test]
    fn paths_outside_the_build_are_not_found() {
        for path in [
            "/../Cargo.toml",
            "/assets/../../Cargo.toml",
            "//etc/passwd",
            "/nothing.js",
            "index.html",
        ] {
            assert!(find(path).is_none(), "{path}");
        }
    }
}
