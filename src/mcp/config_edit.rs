//! `gem mcp add|remove`: editing the `[mcp_servers.NAME]` tables of the user's config file,
//! keeping the rest of it (comments and layout included) as it was.

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table};

use super::McpError;
use super::config::TomlServer;

fn edit_error(path: &Path, detail: impl Into<String>) -> McpError {
    McpError::Edit {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

fn read(path: &Path) -> Result<DocumentMut, McpError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(edit_error(path, e.to_string())),
    };
    text.parse::<DocumentMut>()
        .map_err(|e| edit_error(path, e.to_string()))
}

fn write(path: &Path, doc: &DocumentMut) -> Result<(), McpError> {
    let dir = path
        .parent()
        .ok_or_else(|| edit_error(path, "no parent directory"))?;
    std::fs::create_dir_all(dir).map_err(|e| edit_error(path, e.to_string()))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| edit_error(path, e.to_string()))?;
    std::io::Write::write_all(&mut tmp, doc.to_string().as_bytes())
        .map_err(|e| edit_error(path, e.to_string()))?;
    tmp.persist(path)
        .map_err(|e| edit_error(path, e.to_string()))?;
    Ok(())
}

/// Adds the server `name` to the config file at `path` (created when missing). An existing
/// server of that name is an error unless `replace`.
pub fn add(path: &Path, name: &str, entry: &TomlServer, replace: bool) -> Result<(), McpError> {
    super::config::check_name(name).map_err(|e| edit_error(path, e))?;
    let mut doc = read(path)?;
    let servers = doc
        .entry("mcp_servers")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| edit_error(path, "`mcp_servers` is not a table"))?;
    if servers.contains_key(name) && !replace {
        return Err(edit_error(
            path,
            format!("a server called `{name}` exists already (remove it first)"),
        ));
    }
    let text = toml::to_string(entry).map_err(|e| edit_error(path, e.to_string()))?;
    let table = text
        .parse::<DocumentMut>()
        .map_err(|e| edit_error(path, e.to_string()))?
        .as_table()
        .clone();
    servers.insert(name, Item::Table(table));
    write(path, &doc)
}

/// Removes the server `name`; returns whether it was there.
pub fn remove(path: &Path, name: &str) -> Result<bool, McpError> {
    let mut doc = read(path)?;
    let removed = doc
        .get_mut("mcp_servers")
        .and_then(Item::as_table_mut)
        .and_then(|t| t.remove(name))
        .is_some();
    if removed {
        write(path, &doc)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::config::load_from;

    #[test]
    fn add_and_remove_keep_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gem").join("config.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "# my settings\nmodel = \"m.gguf\"\n").unwrap();
        let entry = TomlServer {
            command: Some("npx".into()),
            args: vec!["-y".into(), "srv".into()],
            env: [("K".to_string(), "v".to_string())].into(),
            ..TomlServer::default()
        };
        add(&path, "fs", &entry, false).unwrap();
        assert!(add(&path, "fs", &entry, false).is_err());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# my settings\nmodel = \"m.gguf\"\n"),
            "{text}"
        );
        let servers = load_from(Some(&path), dir.path(), false).unwrap();
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].describe(), "npx -y srv");
        assert!(remove(&path, "fs").unwrap());
        assert!(!remove(&path, "fs").unwrap());
        assert!(
            load_from(Some(&path), dir.path(), false)
                .unwrap()
                .is_empty()
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("# my settings")
        );
    }

    #[test]
    fn add_creates_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new").join("config.toml");
        let entry = TomlServer {
            url: Some("http://127.0.0.1:1/mcp".into()),
            ..TomlServer::default()
        };
        add(&path, "web", &entry, false).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[mcp_servers.web]"), "{text}");
    }
}
