//! Path confinement: every path a tool touches must resolve (after `..`, absolute paths and
//! symlinks) to a place under the project root or an extra allowed directory; `.git/` is never
//! written.
//!
//! Resolving here gives the model clear messages; it is not what keeps a tool inside. The file
//! tools then open the path *relative to a handle of the allowed directory* (see
//! [`ResolvedPath::open_base`]), through `cap-std`, which refuses any lookup that would leave
//! that directory (`openat2` with `RESOLVE_BENEATH` on Linux), so a directory swapped for a
//! symlink between the check and the use cannot lead outside.

use std::io;
use std::path::{Component, Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::{ToolContext, ToolError};

/// Longer paths are refused before any resolution (Linux's `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;
/// How much of a refused path is repeated back in messages.
const MAX_PATH_IN_MESSAGE: usize = 200;

/// Whether a path is going to be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The tool only reads.
    Read,
    /// The tool creates or changes the file.
    Write,
}

/// A path that passed the confinement checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath {
    /// Absolute path with symlinks resolved: the place actually read or written.
    pub absolute: PathBuf,
    /// How to name the path to the model: relative to the root when under it.
    pub display: String,
    /// The allowed directory the path lies under (the root or an extra directory), resolved.
    pub base: PathBuf,
    /// The path below `base` (empty for `base` itself).
    pub relative: PathBuf,
}

impl ResolvedPath {
    /// A handle of the allowed directory; opening [`Self::relative`] through it cannot leave it.
    pub fn open_base(&self) -> io::Result<Dir> {
        Dir::open_ambient_dir(&self.base, ambient_authority())
    }

    /// [`Self::relative`] as cap-std wants it: `.` for the base itself.
    pub fn relative_or_dot(&self) -> &Path {
        if self.relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.relative
        }
    }
}

/// Resolves `raw` (relative to the project root, or absolute) and checks it is allowed.
pub fn resolve(ctx: &ToolContext, raw: &str, access: Access) -> Result<ResolvedPath, ToolError> {
    if raw.trim().is_empty() {
        return Err(ToolError::Refused(
            "The path is empty. Give a path relative to the project root.".into(),
        ));
    }
    if raw.len() > MAX_PATH_BYTES {
        return Err(ToolError::Refused(format!(
            "The path `{}…` is {} bytes long; paths are limited to {MAX_PATH_BYTES} bytes. Give \
             a shorter path relative to the project root.",
            shorten(raw),
            raw.len()
        )));
    }
    let root = canonical_root(ctx);
    let requested = Path::new(raw);
    let joined = if requested.is_absolute() {
        requested.to_path_buf()
    } else {
        root.join(requested)
    };
    let absolute = resolve_symlinks(&normalize(&joined), raw)?;

    let allowed_base = std::iter::once(root.clone())
        .chain(ctx.extra_dirs.iter().map(|d| canonical(d)))
        .find(|base| absolute.starts_with(base));
    let Some(base) = allowed_base else {
        let mut message = format!(
            "`{raw}` resolves to {}, which is outside the project root {}.",
            absolute.display(),
            root.display()
        );
        if !ctx.extra_dirs.is_empty() {
            let extra: Vec<String> = ctx
                .extra_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            message.push_str(&format!(" Also allowed: {}.", extra.join(", ")));
        }
        message.push_str(" Tools may only access files inside the allowed directories.");
        return Err(ToolError::Refused(message));
    };

    let relative = absolute
        .strip_prefix(&base)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if access == Access::Write && (has_git_component(&relative) || has_git_component(requested)) {
        return Err(ToolError::Refused(format!(
            "`{raw}` is inside a `.git` directory; file tools never write there. Use the git \
             tool for repository operations."
        )));
    }
    Ok(ResolvedPath {
        display: display_path(&root, &absolute),
        absolute,
        base,
        relative,
    })
}

/// The project root with symlinks resolved (as given when it does not exist).
pub fn canonical_root(ctx: &ToolContext) -> PathBuf {
    canonical(&ctx.root)
}

/// How to show `absolute` to the model: relative to `root` when under it, else absolute.
pub fn display_path(root: &Path, absolute: &Path) -> String {
    match absolute.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => crate::repo::display_path(rel),
        Err(_) => absolute.display().to_string(),
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The first characters of a long path, for messages.
fn shorten(raw: &str) -> &str {
    let end = raw
        .char_indices()
        .nth(MAX_PATH_IN_MESSAGE)
        .map_or(raw.len(), |(i, _)| i);
    &raw[..end]
}

/// Removes `.` and applies `..` lexically (never above the filesystem root).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Resolves symlinks in the longest existing prefix of `path` and appends the rest.
///
/// The prefixes are borrowed slices of `path` and the rest is appended once, so the work is
/// one `lstat` per missing trailing component (bounded by [`MAX_PATH_BYTES`]) plus one
/// `canonicalize`. (This used to copy the prefix and re-join the rest for every component,
/// quadratic in the path's length: a 10 MB path took minutes.)
fn resolve_symlinks(path: &Path, raw: &str) -> Result<PathBuf, ToolError> {
    let Some(existing) = path
        .ancestors()
        .find(|prefix| !prefix.as_os_str().is_empty() && prefix.symlink_metadata().is_ok())
    else {
        return Ok(path.to_path_buf());
    };
    let real = std::fs::canonicalize(existing).map_err(|e| {
        ToolError::Refused(format!(
            "Cannot resolve `{raw}`: {} ({e}); it may be a broken symlink.",
            existing.display()
        ))
    })?;
    match path.strip_prefix(existing) {
        Ok(rest) if !rest.as_os_str().is_empty() => Ok(real.join(rest)),
        _ => Ok(real),
    }
}

fn has_git_component(path: &Path) -> bool {
    path.components()
        .any(|c| matches!(c, Component::Normal(name) if name == ".git"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::test_support::Project;

    #[test]
    fn relative_and_dot_dot_inside_root_are_allowed() {
        let p = Project::new();
        p.write("src/a.rs", "x");
        let r = resolve(&p.ctx, "src/../src/./a.rs", Access::Read).unwrap();
        assert_eq!(r.display, "src/a.rs");
        assert_eq!(r.absolute, p.root().join("src/a.rs"));
    }

    #[test]
    fn dot_dot_escape_is_refused() {
        let p = Project::new();
        let err = resolve(&p.ctx, "../outside.txt", Access::Read).unwrap_err();
        assert!(
            err.to_string().contains("outside the project root"),
            "{err}"
        );
    }

    #[test]
    fn absolute_path_outside_is_refused_inside_is_allowed() {
        let p = Project::new();
        let err = resolve(&p.ctx, "/etc/passwd", Access::Read).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        let inside = p.root().join("new.txt");
        let r = resolve(&p.ctx, inside.to_str().unwrap(), Access::Write).unwrap();
        assert_eq!(r.display, "new.txt");
    }

    #[cfg(unix)]
    #[test]
    fn symlink_pointing_out_is_refused() {
        let p = Project::new();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(outside.path(), p.root().join("link")).unwrap();
        let err = resolve(&p.ctx, "link/secret", Access::Read).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        let err = resolve(&p.ctx, "link/new-file", Access::Write).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn dangling_symlink_is_refused() {
        let p = Project::new();
        std::os::unix::fs::symlink("/nonexistent/target", p.root().join("dangling")).unwrap();
        assert!(resolve(&p.ctx, "dangling", Access::Write).is_err());
    }

    #[test]
    fn extra_dir_is_allowed() {
        let p = Project::new();
        let extra = tempfile::tempdir().unwrap();
        let ctx = p.ctx.clone().with_extra_dirs([extra.path().to_path_buf()]);
        let target = extra.path().join("notes.md");
        let r = resolve(&ctx, target.to_str().unwrap(), Access::Write).unwrap();
        assert_eq!(
            r.absolute,
            std::fs::canonicalize(extra.path())
                .unwrap()
                .join("notes.md")
        );
    }

    #[test]
    fn writing_into_git_dir_is_refused_reading_is_not() {
        let p = Project::new();
        p.write(".git/config", "[core]");
        let err = resolve(&p.ctx, ".git/config", Access::Write).unwrap_err();
        assert!(err.to_string().contains(".git"), "{err}");
        assert!(resolve(&p.ctx, "sub/.git/HEAD", Access::Write).is_err());
        assert!(resolve(&p.ctx, ".git/config", Access::Read).is_ok());
    }

    #[test]
    fn resolved_path_knows_its_base_and_relative_part() {
        let p = Project::new();
        let r = resolve(&p.ctx, "a/b.txt", Access::Write).unwrap();
        assert_eq!(r.base, p.root());
        assert_eq!(r.relative, Path::new("a/b.txt"));
        let dot = resolve(&p.ctx, ".", Access::Read).unwrap();
        assert_eq!(dot.relative_or_dot(), Path::new("."));
        assert!(dot.open_base().is_ok());
    }

    #[test]
    fn overlong_path_is_refused_quickly_without_echoing_it() {
        let p = Project::new();
        let long = "abcdefgh/".repeat(1_200_000 / 9); // about 1.2 MB, 133k components
        let started = std::time::Instant::now();
        let err = resolve(&p.ctx, &long, Access::Write).unwrap_err();
        // A generous bound: a walk over 133k components that stalled would take far longer.
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        let message = err.to_string();
        assert!(
            message.contains("paths are limited to 4096 bytes"),
            "{message}"
        );
        assert!(message.len() < 1000, "the path is not repeated in full");
    }

    #[test]
    fn resolution_at_the_length_limit_stays_fast() {
        let p = Project::new();
        let deep = "a/".repeat(MAX_PATH_BYTES / 2 - 1);
        let started = std::time::Instant::now();
        for _ in 0..20 {
            let r = resolve(&p.ctx, &deep, Access::Read).unwrap();
            assert!(r.relative.components().count() > 2000);
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn empty_path_is_refused() {
        let p = Project::new();
        assert!(resolve(&p.ctx, "  ", Access::Read).is_err());
    }
}
