//! Path confinement: every path a tool touches must resolve (after `..`, absolute paths and
//! symlinks) to a place under the project root or an extra allowed directory; `.git/` is never
//! written.

use std::path::{Component, Path, PathBuf};

use super::{ToolContext, ToolError};

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
}

/// Resolves `raw` (relative to the project root, or absolute) and checks it is allowed.
pub fn resolve(ctx: &ToolContext, raw: &str, access: Access) -> Result<ResolvedPath, ToolError> {
    if raw.trim().is_empty() {
        return Err(ToolError::Refused(
            "The path is empty. Give a path relative to the project root.".into(),
        ));
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

    if access == Access::Write {
        let inside = absolute.strip_prefix(&base).unwrap_or(&absolute);
        if has_git_component(inside) || has_git_component(requested) {
            return Err(ToolError::Refused(format!(
                "`{raw}` is inside a `.git` directory; file tools never write there. Use the \
                 git tool for repository operations."
            )));
        }
    }
    Ok(ResolvedPath {
        display: display_path(&root, &absolute),
        absolute,
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
        Ok(rel) => rel.display().to_string(),
        Err(_) => absolute.display().to_string(),
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
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
fn resolve_symlinks(path: &Path, raw: &str) -> Result<PathBuf, ToolError> {
    let mut existing = path.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if existing.symlink_metadata().is_ok() {
            let real = std::fs::canonicalize(&existing).map_err(|e| {
                ToolError::Refused(format!(
                    "Cannot resolve `{raw}`: {} ({e}); it may be a broken symlink.",
                    existing.display()
                ))
            })?;
            return Ok(rest.iter().rev().fold(real, |acc, part| acc.join(part)));
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return Ok(path.to_path_buf()),
        }
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
    fn empty_path_is_refused() {
        let p = Project::new();
        assert!(resolve(&p.ctx, "  ", Access::Read).is_err());
    }
}
