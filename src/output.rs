//! stdout for `status` and `--dry-run`, which a reader that went away cannot turn into a failure.
//!
//! `eureka-hook status | head -1` closes the pipe after one line; the next write gets `EPIPE`
//! (Rust ignores `SIGPIPE`). That is not a registry failure, so the rest of the output is dropped
//! and the hook's exit code still says what the registry answered.

use std::io::{self, Write};

/// A writer that discards everything once its reader has gone.
pub struct ReaderMayLeave<W> {
    inner: W,
    reader_gone: bool,
}

impl<W: Write> ReaderMayLeave<W> {
    pub fn new(inner: W) -> Self {
        ReaderMayLeave {
            inner,
            reader_gone: false,
        }
    }
}

impl<W: Write> Write for ReaderMayLeave<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.reader_gone {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                self.reader_gone = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.reader_gone {
            return Ok(());
        }
        match self.inner.flush() {
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                self.reader_gone = true;
                Ok(())
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct ClosedAfter(usize);

    impl Write for ClosedAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            self.0 -= 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_swallows_the_rest_but_other_errors_still_fail() {
        let mut out = ReaderMayLeave::new(ClosedAfter(1));
        out.write_all(b"first line\n").unwrap();
        out.write_all(b"second line\n").unwrap();
        out.flush().unwrap();

        assert!(ReaderMayLeave::new(Full).write_all(b"x").is_err());
    }
}
