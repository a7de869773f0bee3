//! Every read of something the hook did not write is bounded in size here: [`read_at_most`] takes
//! at most a cap (and one byte to tell more from exactly that), for files and for the registry's
//! answer bodies, compressed or not (`eureka::transport`, `eureka::body`). Every file the hook
//! reads from disk goes through [`read_regular_file`]: only a regular file is read, and only up
//! to a cap, so no path can hang the hook or fill its memory. (Response headers are read by ureq,
//! within its own 64 KiB limit.)
//!
//! The bound in time comes from never waiting on anyone: the path is checked with `stat` before it
//! is opened (a device is never opened, so opening has no side effect), it is opened with
//! `O_NONBLOCK` (opening a FIFO with no writer would otherwise block for ever) and `O_NOCTTY`, and
//! `fstat` on the open descriptor must again say "regular file" (the path may have been swapped in
//! between). The bound in size: at most `cap + 1` bytes are read, and one byte over the cap is
//! [`FileRefused::TooLarge`]. This module knows nothing of flags or variables; callers name those.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The most a credentials file may hold: one `user:password` line fits in far less.
pub const CREDENTIALS_FILE_CAP: u64 = 64 * 1024;
/// The most a CA file may hold: the whole Mozilla bundle is about 220 KiB.
pub const CA_FILE_CAP: u64 = 4 * 1024 * 1024;
/// The most of `/etc/hosts` that is read; a larger one is treated as naming nothing.
pub const HOSTS_FILE_CAP: u64 = 1024 * 1024;

/// Why a file was not read. No variant holds any of the file's content.
#[derive(Debug)]
pub enum FileRefused {
    /// It could not be looked at or opened (missing, no permission, …).
    Unreadable(io::Error),
    /// It is not a regular file.
    NotRegular(FileKind),
    /// It holds more than the cap.
    TooLarge { cap: u64 },
}

/// What a path that is not a regular file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Directory,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,
    Other,
}

impl FileKind {
    fn of(metadata: &Metadata) -> Option<FileKind> {
        let kind = metadata.file_type();
        if kind.is_file() {
            None
        } else if kind.is_dir() {
            Some(FileKind::Directory)
        } else if kind.is_fifo() {
            Some(FileKind::Fifo)
        } else if kind.is_char_device() {
            Some(FileKind::CharacterDevice)
        } else if kind.is_block_device() {
            Some(FileKind::BlockDevice)
        } else if kind.is_socket() {
            Some(FileKind::Socket)
        } else {
            Some(FileKind::Other)
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a FIFO (named pipe)",
            FileKind::CharacterDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Other => "not a regular file",
        })
    }
}

impl fmt::Display for FileRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileRefused::Unreadable(err) => write!(f, "cannot read it ({err})"),
            FileRefused::NotRegular(kind) => {
                write!(
                    f,
                    "it is {kind}, not a regular file: give the path of a file"
                )
            }
            FileRefused::TooLarge { cap } => {
                write!(
                    f,
                    "it is larger than {cap} bytes, more than such a file ever holds"
                )
            }
        }
    }
}

impl std::error::Error for FileRefused {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileRefused::Unreadable(err) => Some(err),
            _ => None,
        }
    }
}

/// The content of the regular file at `path`, if it holds at most `cap` bytes.
pub fn read_regular_file(path: &Path, cap: u64) -> Result<Vec<u8>, FileRefused> {
    let before = std::fs::metadata(path).map_err(FileRefused::Unreadable)?;
    if let Some(kind) = FileKind::of(&before) {
        return Err(FileRefused::NotRegular(kind));
    }
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(FileRefused::Unreadable)?;
    let opened = file.metadata().map_err(FileRefused::Unreadable)?;
    if let Some(kind) = FileKind::of(&opened) {
        return Err(FileRefused::NotRegular(kind));
    }
    read_at_most(file, cap)
        .map_err(FileRefused::Unreadable)?
        .ok_or(FileRefused::TooLarge { cap })
}

/// All of `reader` if it holds at most `cap` bytes, else `None`; never more than `cap + 1` bytes
/// are read.
pub fn read_at_most(reader: impl Read, cap: u64) -> io::Result<Option<Vec<u8>>> {
    let mut content = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut content)?;
    Ok(u64::try_from(content.len())
        .is_ok_and(|length| length <= cap)
        .then_some(content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    #[test]
    fn a_reader_gives_all_up_to_its_cap_and_nothing_past_it() {
        assert_eq!(
            read_at_most(&b"abcd"[..], 4).unwrap(),
            Some(b"abcd".to_vec())
        );
        assert_eq!(read_at_most(&b"abcde"[..], 4).unwrap(), None);
        // An endless reader is read one byte past the cap, not to its end.
        assert_eq!(read_at_most(std::io::repeat(7), 1024).unwrap(), None);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("eureka-hook-bounded-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_regular_file_up_to_the_cap_is_read_whole() {
        let dir = temp_dir("regular");
        let path = dir.join("file");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_regular_file(&path, 10).unwrap(), b"0123456789");
        assert!(matches!(
            read_regular_file(&path, 9),
            Err(FileRefused::TooLarge { cap: 9 })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn devices_and_directories_are_refused_without_reading() {
        for (path, kind) in [
            ("/dev/zero", FileKind::CharacterDevice),
            ("/dev/urandom", FileKind::CharacterDevice),
            ("/dev/null", FileKind::CharacterDevice),
            ("/", FileKind::Directory),
        ] {
            match read_regular_file(Path::new(path), 1 << 20) {
                Err(FileRefused::NotRegular(found)) => assert_eq!(found, kind, "{path}"),
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_fifo_with_no_writer_is_refused_at_once() {
        let dir = temp_dir("fifo");
        let path = dir.join("fifo");
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let started = Instant::now();
        let result = read_regular_file(&path, 1024);
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(matches!(
            result,
            Err(FileRefused::NotRegular(FileKind::Fifo))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_file_is_unreadable_and_says_why() {
        let err = read_regular_file(Path::new("/nonexistent/eureka-hook"), 10).unwrap_err();
        assert!(
            matches!(&err, FileRefused::Unreadable(io) if io.kind() == io::ErrorKind::NotFound)
        );
        assert!(err.to_string().starts_with("cannot read it"), "{err}");
    }
}

/// Property test: whatever a regular file holds, it is read whole up to the cap and refused
/// past it, and the cap is never exceeded in memory.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn a_file_is_read_whole_up_to_the_cap_and_refused_past_it(
            content in proptest::collection::vec(any::<u8>(), 0..2048),
            cap in 0u64..2048,
        ) {
            let path = std::env::temp_dir().join(format!("eureka-hook-bounded-prop-{}", std::process::id()));
            std::fs::write(&path, &content).unwrap();
            let result = read_regular_file(&path, cap);
            std::fs::remove_file(&path).unwrap();
            if content.len() as u64 <= cap {
                prop_assert_eq!(result.unwrap(), content);
            } else {
                let refused_at_cap =
                    matches!(result, Err(FileRefused::TooLarge { cap: refused }) if refused == cap);
                prop_assert!(refused_at_cap);
            }
        }
    }
}
