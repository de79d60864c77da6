//! Rules that decide which files of a project are worth showing the model.
//!
//! Each rule is a pure function over a name or a prefix of the content, so the walker stays a
//! loop and the rules stay testable on their own.

use serde::Serialize;
use std::path::Path;

/// Why a file (or a whole directory) was left out of the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Contains a NUL byte near the start or is not valid UTF-8.
    Binary,
    /// A dependency lockfile (Cargo.lock, package-lock.json, …).
    Lockfile,
    /// Machine-written: minified, a source map, or carries a generated-code marker.
    Generated,
    /// A vendored, dependency or build-output directory (vendor/, node_modules/, target/, …).
    Vendored,
    /// Larger than the configured size cap.
    TooLarge,
    /// Could not be read (permissions, vanished during the walk, …).
    Unreadable,
    /// Neither the file nor its repo-map entry fitted in the token budget.
    OverBudget,
}

impl SkipReason {
    /// All reasons, in the order the one-line summary lists them.
    pub const ALL: [SkipReason; 7] = [
        SkipReason::Binary,
        SkipReason::TooLarge,
        SkipReason::Lockfile,
        SkipReason::Generated,
        SkipReason::Vendored,
        SkipReason::Unreadable,
        SkipReason::OverBudget,
    ];

    /// Short human label used in summaries, e.g. `binary` or `too large`.
    pub fn label(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::Lockfile => "lockfile",
            SkipReason::Generated => "generated",
            SkipReason::Vendored => "vendored",
            SkipReason::TooLarge => "too large",
            SkipReason::Unreadable => "unreadable",
            SkipReason::OverBudget => "over budget",
        }
    }
}

/// File names of dependency lockfiles, matched exactly.
const LOCKFILE_NAMES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
    "deno.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "uv.lock",
    "go.sum",
    "go.work.sum",
    "Gemfile.lock",
    "composer.lock",
    "flake.lock",
    "mix.lock",
    "pubspec.lock",
    "Podfile.lock",
    "Package.resolved",
    "gradle.lockfile",
    "packages.lock.json",
    "conan.lock",
];

/// Directory names whose whole subtree is dependencies or build output.
const VENDORED_DIR_NAMES: &[&str] = &[
    "vendor",
    "node_modules",
    "target",
    "dist",
    "build",
    "bower_components",
    "__pycache__",
    "site-packages",
    "venv",
];

/// File-name endings of minified bundles and source maps.
const GENERATED_SUFFIXES: &[&str] = &[
    ".min.js", ".min.mjs", ".min.css", ".js.map", ".mjs.map", ".css.map",
];

/// Markers that code generators put in the first lines of their output.
const GENERATED_MARKERS: &[&str] = &["@generated", "DO NOT EDIT"];

/// How many leading lines are searched for a generated-code marker.
const MARKER_LINES: usize = 5;

/// How many leading bytes are searched for a NUL byte.
const BINARY_SNIFF_BYTES: usize = 8192;

/// Whether `name` is a dependency lockfile.
pub fn is_lockfile(name: &str) -> bool {
    LOCKFILE_NAMES.contains(&name)
}

/// Whether a directory called `name` holds vendored code or build output.
pub fn is_vendored_dir(name: &str) -> bool {
    VENDORED_DIR_NAMES.contains(&name)
}

/// Whether the file name alone says the file is machine-written (minified or a source map).
pub fn has_generated_name(name: &str) -> bool {
    GENERATED_SUFFIXES
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// Whether the first few lines carry a generated-code marker.
pub fn has_generated_marker(content: &str) -> bool {
    content
        .lines()
        .take(MARKER_LINES)
        .any(|line| GENERATED_MARKERS.iter().any(|marker| line.contains(marker)))
}

/// Decodes file bytes as text, or `None` when they look binary (NUL byte or invalid UTF-8).
pub fn decode_text(bytes: Vec<u8>) -> Option<String> {
    let sniff = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    if sniff.contains(&0) {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// The file name of `path` as UTF-8 text (lossy), or empty when it has none.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfiles_are_recognised_by_exact_name() {
        assert!(is_lockfile("Cargo.lock"));
        assert!(is_lockfile("go.sum"));
        assert!(is_lockfile("pnpm-lock.yaml"));
        assert!(!is_lockfile("Cargo.toml"));
        assert!(!is_lockfile("my.lock.rs"));
    }

    #[test]
    fn vendored_dirs_are_recognised() {
        assert!(is_vendored_dir("node_modules"));
        assert!(is_vendored_dir("target"));
        assert!(!is_vendored_dir("src"));
    }

    #[test]
    fn minified_and_map_files_are_generated() {
        assert!(has_generated_name("app.min.js"));
        assert!(has_generated_name("style.css.map"));
        assert!(!has_generated_name("app.js"));
    }

    #[test]
    fn generated_marker_only_counts_near_the_top() {
        assert!(has_generated_marker(
            "// Code generated by protoc. DO NOT EDIT.\npackage x\n"
        ));
        assert!(has_generated_marker("/*\n * @generated by build.rs\n */\n"));
        let late = format!("{}// @generated\n", "line\n".repeat(MARKER_LINES));
        assert!(!has_generated_marker(&late));
        assert!(!has_generated_marker("fn main() {}\n"));
    }

    #[test]
    fn binary_sniff_rejects_nul_and_invalid_utf8() {
        assert_eq!(decode_text(b"hello\n".to_vec()).as_deref(), Some("hello\n"));
        assert_eq!(decode_text(vec![b'a', 0, b'b']), None);
        assert_eq!(decode_text(vec![0xff, 0xfe, b'a']), None);
    }
}
