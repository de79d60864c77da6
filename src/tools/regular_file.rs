//! Opening and reading files for the file tools: only regular files, opened beneath an allowed
//! directory's handle, judged on the opened handle (not the name), read with a size cap.
//!
//! The open never blocks: `O_NONBLOCK` makes opening a FIFO return at once (and `O_NOCTTY`
//! keeps a terminal device from becoming ours); `fstat` on the handle then refuses anything
//! that is not a regular file before a single byte is read, so a FIFO cannot hang a tool and a
//! `/dev/zero`-like device cannot fill memory.

use std::io::{self, Read};
use std::path::Path;

use cap_std::fs::{Dir, File, FileType, Metadata, OpenOptions};
use thiserror::Error;

use super::ToolError;

/// Why a path could not be opened or read as a regular file.
#[derive(Debug, Error)]
pub enum FileAccessError {
    /// Nothing exists at the path.
    #[error("does not exist")]
    NotFound,
    /// The path is a directory.
    #[error("is a directory")]
    Directory,
    /// The path is a FIFO, a device, a socket…: tools never read or write those.
    #[error("is {0}, not a regular file")]
    NotRegular(&'static str),
    /// The file holds more than the caller's limit.
    #[error("is larger than {limit} bytes")]
    TooLarge {
        /// The size found (at least `limit + 1`).
        size: u64,
        /// The limit that applied.
        limit: u64,
    },
    /// Resolving the path beneath the allowed directory would have left it (a symlink or a
    /// directory swapped for one since the path was checked).
    #[error("leads outside the allowed directory")]
    Escape,
    /// Any other I/O error.
    #[error("{0}")]
    Io(io::Error),
}

impl From<io::Error> for FileAccessError {
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::NotFound {
            FileAccessError::NotFound
        } else if is_escape(&error) {
            FileAccessError::Escape
        } else {
            FileAccessError::Io(error)
        }
    }
}

impl FileAccessError {
    /// The message for the model about the file shown as `shown`; `Escape` is a refusal.
    pub fn for_model(&self, shown: &str) -> ToolError {
        match self {
            FileAccessError::NotFound => ToolError::Failed(format!("`{shown}` does not exist.")),
            FileAccessError::Directory => {
                ToolError::Failed(format!("`{shown}` is a directory, not a file."))
            }
            FileAccessError::NotRegular(kind) => ToolError::Failed(format!(
                "`{shown}` is {kind}, not a regular file; the file tools only read and write \
                 regular files."
            )),
            FileAccessError::TooLarge { size, limit } => ToolError::Failed(format!(
                "`{shown}` is too large for the file tools ({size} bytes or more; the limit is \
                 {limit})."
            )),
            FileAccessError::Escape => ToolError::Refused(format!(
                "`{shown}` now leads outside the allowed directories (a symlink or a directory \
                 changed while it was being opened); nothing was read or written."
            )),
            FileAccessError::Io(e) => ToolError::Failed(format!("Cannot access `{shown}`: {e}.")),
        }
    }
}

/// Whether `error` is cap-std's refusal of a path that would leave the directory handle.
pub fn is_escape(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::PermissionDenied
        && error.to_string().contains("outside of the filesystem")
}

/// Options that open for reading without ever blocking on a FIFO or adopting a terminal.
fn read_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options
}

/// Opens `relative` beneath `dir` for reading and checks, on the opened handle, that it is a
/// regular file.
pub fn open_regular(dir: &Dir, relative: &Path) -> Result<(File, Metadata), FileAccessError> {
    let file = dir.open_with(relative, &read_options())?;
    let meta = file.metadata()?;
    check_regular(meta.file_type())?;
    Ok((file, meta))
}

/// Reads the whole regular file `relative` beneath `dir`, refusing files over `limit` bytes
/// (also one that grows past it while being read).
pub fn read_regular(dir: &Dir, relative: &Path, limit: u64) -> Result<Vec<u8>, FileAccessError> {
    let (file, meta) = open_regular(dir, relative)?;
    if meta.len() > limit {
        return Err(FileAccessError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(FileAccessError::TooLarge { size: read, limit });
    }
    Ok(bytes)
}

/// `Ok` for a regular file, else what it is.
pub fn check_regular(file_type: FileType) -> Result<(), FileAccessError> {
    if file_type.is_file() {
        Ok(())
    } else if file_type.is_dir() {
        Err(FileAccessError::Directory)
    } else {
        Err(FileAccessError::NotRegular(special_kind(file_type)))
    }
}

/// A name for a file type that is neither a regular file nor a directory.
fn special_kind(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use cap_std::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_symlink() {
        return "a symbolic link";
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;
    use cap_std::ambient_authority;

    fn project() -> (tempfile::TempDir, Dir) {
        let temp = tempfile::tempdir().unwrap();
        let dir = Dir::open_ambient_dir(temp.path(), ambient_authority()).unwrap();
        (temp, dir)
    }

    #[test]
    fn reads_a_regular_file_and_caps_the_size() {
        let (temp, dir) = project();
        std::fs::write(temp.path().join("a.txt"), "hello").unwrap();
        assert_eq!(read_regular(&dir, Path::new("a.txt"), 5).unwrap(), b"hello");
        assert!(matches!(
            read_regular(&dir, Path::new("a.txt"), 4),
            Err(FileAccessError::TooLarge { size: 5, limit: 4 })
        ));
        assert!(matches!(
            read_regular(&dir, Path::new("none"), 4),
            Err(FileAccessError::NotFound)
        ));
        std::fs::create_dir(temp.path().join("d")).unwrap();
        assert!(matches!(
            read_regular(&dir, Path::new("d"), 4),
            Err(FileAccessError::Directory)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let (temp, dir) = project();
        let fifo = temp.path().join("pipe");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
        let err = read_regular(&dir, Path::new("pipe"), 100).unwrap_err();
        assert!(
            matches!(err, FileAccessError::NotRegular("a named pipe (FIFO)")),
            "{err:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_character_device_is_refused_without_reading() {
        let dev = Dir::open_ambient_dir("/dev", ambient_authority()).unwrap();
        let err = read_regular(&dev, Path::new("zero"), 100).unwrap_err();
        assert!(
            matches!(err, FileAccessError::NotRegular("a character device")),
            "{err:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_out_of_the_directory_is_an_escape() {
        let (temp, dir) = project();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(outside.path(), temp.path().join("link")).unwrap();
        let err = read_regular(&dir, Path::new("link/secret"), 100).unwrap_err();
        assert!(matches!(err, FileAccessError::Escape), "{err:?}");
    }
}
