//! The `--log-file` copy of every log line, which can never fail or hold up a hook.
//!
//! Three things can block a plain `OpenOptions::open` + `write_all`:
//! - opening a FIFO for writing blocks until a reader opens it. With `O_NONBLOCK` the open
//!   returns `ENXIO` at once instead (fifo(7)), which we report as "nobody is reading".
//! - opening or writing a file on a hung NFS server blocks in the kernel, and `O_NONBLOCK`
//!   does not help for regular files. So the file is opened and written by its own thread;
//!   the hook waits for the open at most `open_bound`, and never waits for a write.
//! - writing to a FIFO (or `/proc/1/fd/1`, a pipe) whose reader stopped reading blocks once
//!   the pipe is full. The descriptor is non-blocking (the flag belongs to our own open file
//!   description, not to PID 1's), so a full pipe gives `EAGAIN` and the line is dropped.
//!
//! Lines go to the writer thread through std's bounded `sync_channel` (about 21 KB more in the
//! release binary than the `Mutex<VecDeque>` + `Condvar` queue it replaced, measured on `x86_64`,
//! for far less code of our own); when it is full the line is dropped and counted, so a stuck writer costs memory for `capacity` lines at most.
//! [`LogFile::finish`] closes the channel and gives the writer a bounded time to drain it before
//! the process exits.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread;
use std::time::Duration;

/// Why the log file gets no lines.
#[derive(Debug)]
pub enum LogFileProblem {
    /// A FIFO that no process has open for reading (`ENXIO`).
    NoReader,
    /// The open failed (permissions, missing directory, a directory, …).
    CannotOpen(io::Error),
    /// The open did not finish within the bound (a hung network file system).
    OpenTimedOut(Duration),
}

impl std::fmt::Display for LogFileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogFileProblem::NoReader => f.write_str("it is a FIFO that nothing reads"),
            LogFileProblem::CannotOpen(err) => write!(f, "{err}"),
            LogFileProblem::OpenTimedOut(bound) => {
                write!(f, "opening it took longer than {} ms", bound.as_millis())
            }
        }
    }
}

/// How the log file fared, for one warning on stderr at the end.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LogFileReport {
    /// Lines dropped because the queue was full or the reader's pipe was full.
    pub dropped_lines: usize,
    /// Lines that failed to write for another reason (the first error is kept).
    pub failed_lines: usize,
    pub first_error: Option<String>,
    /// The writer had not drained the queue when `finish`'s bound ran out.
    pub unfinished: bool,
}

/// What the writer thread tells the hook: first how the open went, then, once the hook has closed
/// the queue and every line in it is written, the report. (One channel for both keeps std's
/// channel code instantiated for one message type fewer in the binary.)
enum FromWriter {
    Opened(io::Result<()>),
    Finished(LogFileReport),
}

/// The sending side of the log file; the file itself lives in the writer thread.
pub struct LogFile {
    lines: SyncSender<String>,
    /// Lines dropped because the queue was full.
    overflowed: usize,
    from_writer: Receiver<FromWriter>,
}

/// Opens `path` for appending without ever blocking on a FIFO and without waiting more than
/// `open_bound` for the file system. Real use: `open(path, Duration::from_millis(500), 1024)`.
pub fn open(path: &Path, open_bound: Duration, capacity: usize) -> Result<LogFile, LogFileProblem> {
    let owned = path.to_path_buf();
    open_with(
        move || open_append_nonblocking(&owned),
        open_bound,
        capacity,
    )
    .map_err(|problem| match problem {
        LogFileProblem::CannotOpen(err) => open_failure(err, path),
        other => other,
    })
}

/// `O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY`, mode 0644 (umask applies).
pub fn open_append_nonblocking(path: &PathBuf) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// [`open`] with the opening injected, so tests can stand in a slow or failing file system.
pub fn open_with<W, F>(
    opener: F,
    open_bound: Duration,
    capacity: usize,
) -> Result<LogFile, LogFileProblem>
where
    W: Write + Send + 'static,
    F: FnOnce() -> io::Result<W> + Send + 'static,
{
    let (lines_tx, lines_rx) = mpsc::sync_channel::<String>(capacity);
    let (writer_tx, from_writer) = mpsc::channel();
    let spawned = thread::Builder::new()
        .name("log-file".into())
        .spawn(move || match opener() {
            Ok(file) => {
                let _ = writer_tx.send(FromWriter::Opened(Ok(())));
                let _ = writer_tx.send(FromWriter::Finished(write_lines(file, &lines_rx)));
            }
            Err(err) => {
                let _ = writer_tx.send(FromWriter::Opened(Err(err)));
            }
        });
    if let Err(err) = spawned {
        return Err(LogFileProblem::CannotOpen(err));
    }
    match from_writer.recv_timeout(open_bound) {
        Ok(FromWriter::Opened(Ok(()))) => Ok(LogFile {
            lines: lines_tx,
            overflowed: 0,
            from_writer,
        }),
        Ok(FromWriter::Opened(Err(err))) => Err(LogFileProblem::CannotOpen(err)),
        // The thread stays blocked in the kernel; it is detached and dies with the process. (The
        // writer reports its open before anything else, so `Finished` cannot come first.)
        Ok(FromWriter::Finished(_)) | Err(_) => Err(LogFileProblem::OpenTimedOut(open_bound)),
    }
}

/// Writes every line until the channel is closed, and says how it went.
fn write_lines<W: Write>(mut file: W, lines: &Receiver<String>) -> LogFileReport {
    let mut report = LogFileReport::default();
    for line in lines {
        match file.write(line.as_bytes()) {
            Ok(written) if written == line.len() => {}
            // A partial write into a nearly full pipe: the rest of the line is dropped rather
            // than waited for; the next line starts after a newline.
            Ok(_) => {
                report.dropped_lines = report.dropped_lines.saturating_add(1);
                let _ = file.write(b"\n");
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                report.dropped_lines = report.dropped_lines.saturating_add(1);
            }
            Err(err) => {
                report.failed_lines = report.failed_lines.saturating_add(1);
                report.first_error.get_or_insert_with(|| err.to_string());
            }
        }
    }
    let _ = file.flush();
    report
}

impl LogFile {
    /// Queues one line (ending in `\n`); never blocks.
    pub fn write_line(&mut self, line: String) {
        match self.lines.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.overflowed = self.overflowed.saturating_add(1);
            }
        }
    }

    /// Waits at most `bound` for the queued lines to be written, and says how it went.
    pub fn finish(self, bound: Duration) -> LogFileReport {
        let LogFile {
            lines,
            overflowed,
            from_writer,
        } = self;
        drop(lines);
        match from_writer.recv_timeout(bound) {
            Ok(FromWriter::Finished(mut report)) => {
                report.dropped_lines = report.dropped_lines.saturating_add(overflowed);
                report
            }
            Ok(FromWriter::Opened(_)) | Err(_) => LogFileReport {
                dropped_lines: overflowed,
                unfinished: true,
                ..LogFileReport::default()
            },
        }
    }
}

/// Why the open of `path` failed: `ENXIO` means "nobody reads" only for a FIFO; a terminal device
/// with no terminal behind it (`/dev/tty` in a container) gives it too.
fn open_failure(err: io::Error, path: &Path) -> LogFileProblem {
    let fifo = || {
        std::fs::metadata(path)
            .is_ok_and(|metadata| std::os::unix::fs::FileTypeExt::is_fifo(&metadata.file_type()))
    };
    if err.raw_os_error() == Some(libc::ENXIO) && fifo() {
        LogFileProblem::NoReader
    } else {
        LogFileProblem::CannotOpen(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::time::Instant;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("log-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn make_fifo(path: &Path) {
        let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(
            unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) },
            0,
            "mkfifo failed"
        );
    }

    #[test]
    fn a_regular_file_gets_every_line_appended() {
        let dir = scratch_dir("regular");
        let path = dir.join("hook.log");
        std::fs::write(&path, "earlier\n").unwrap();
        let mut log = open(&path, Duration::from_secs(1), 16).unwrap();
        log.write_line("one\n".into());
        log.write_line("two\n".into());
        assert_eq!(log.finish(Duration::from_secs(1)), LogFileReport::default());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "earlier\none\ntwo\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_a_fifo_is_called_one_when_the_open_says_no_device() {
        let dir = scratch_dir("enxio");
        let fifo = dir.join("pipe");
        make_fifo(&fifo);
        let no_device = || io::Error::from_raw_os_error(libc::ENXIO);
        assert!(matches!(
            open_failure(no_device(), &fifo),
            LogFileProblem::NoReader
        ));
        // As /dev/tty in a container: a character device with no terminal behind it.
        let problem = open_failure(no_device(), Path::new("/dev/null"));
        assert!(
            matches!(problem, LogFileProblem::CannotOpen(_)),
            "{problem}"
        );
        assert!(!problem.to_string().contains("FIFO"), "{problem}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_without_a_reader_is_reported_at_once() {
        let dir = scratch_dir("fifo-no-reader");
        let path = dir.join("pipe");
        make_fifo(&path);
        let started = Instant::now();
        let result = open(&path, Duration::from_secs(5), 16);
        assert!(
            matches!(result, Err(LogFileProblem::NoReader)),
            "{:?}",
            result.err()
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_whose_reader_never_reads_drops_lines_instead_of_blocking() {
        let dir = scratch_dir("fifo-stalled");
        let path = dir.join("pipe");
        make_fifo(&path);
        // A reader that opens the FIFO and then never reads from it.
        let _reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        let mut log = open(&path, Duration::from_secs(1), 64).unwrap();
        let started = Instant::now();
        let line = format!("{}\n", "x".repeat(4095));
        for _ in 0..100 {
            log.write_line(line.clone()); // 400 KiB, far more than a 64 KiB pipe holds
        }
        let report = log.finish(Duration::from_secs(2));
        assert!(started.elapsed() < Duration::from_secs(2), "{report:?}");
        assert!(!report.unfinished, "{report:?}");
        assert!(report.dropped_lines > 0, "{report:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_system_that_hangs_on_open_costs_only_the_bound() {
        let started = Instant::now();
        let result = open_with(
            || {
                thread::sleep(Duration::from_secs(3));
                Ok(io::sink())
            },
            Duration::from_millis(50),
            16,
        );
        assert!(matches!(result, Err(LogFileProblem::OpenTimedOut(_))));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    /// A writer that blocks forever, like `write(2)` on a hung NFS mount.
    struct Hung;
    impl Write for Hung {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            thread::sleep(Duration::from_secs(3600));
            Ok(0)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_writer_that_hangs_never_blocks_the_hook() {
        let mut log = open_with(|| Ok(Hung), Duration::from_secs(1), 4).unwrap();
        let started = Instant::now();
        for n in 0..100 {
            log.write_line(format!("line {n}\n"));
        }
        let report = log.finish(Duration::from_millis(100));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(report.unfinished);
        assert!(report.dropped_lines >= 90, "{report:?}");
    }

    #[test]
    fn a_directory_or_a_missing_parent_is_an_open_error() {
        let dir = scratch_dir("errors");
        for path in [dir.clone(), dir.join("missing/hook.log")] {
            let result = open(&path, Duration::from_secs(1), 4);
            assert!(
                matches!(result, Err(LogFileProblem::CannotOpen(_))),
                "{path:?}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
