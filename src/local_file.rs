//! Local files named by the configuration (trusted roots, certificates, keys, token files):
//! regular files only, and bounded, so that a path to `/dev/zero`, a FIFO or a directory is a
//! clear Configuration error instead of unbounded memory or a read that never returns.

use crate::error::{Error, Result};
use std::io::Read;

/// Largest file read: PEM chains and projected tokens are a few KiB.
pub(crate) const MAX_LOCAL_FILE: u64 = 1024 * 1024;

/// Reads the regular file at `path`, at most [`MAX_LOCAL_FILE`] bytes; the message names the
/// setting and the path, never the content.
pub(crate) fn read_bounded(path: &str, setting: &str) -> Result<Vec<u8>> {
    let fail = |what: String| Error::configuration(format!("{setting}: '{path}' {what}"));
    // Checked before opening: opening a FIFO for reading blocks until a writer appears.
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    // Non-blocking open, and the type checked again on the open file: the path may have been
    // swapped for a FIFO or a device between the two checks.
    let file = open_nonblocking(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot be read: {e}")))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_LOCAL_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot be read: {e}")))?;
    if bytes.len() as u64 > MAX_LOCAL_FILE {
        return Err(fail(format!("is larger than {MAX_LOCAL_FILE} bytes")));
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_nonblocking(path: &str) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &str) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn refused(path: &str, says: &str) {
        let e = read_bounded(path, "extra_root_cert_path").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Configuration, "{path}");
        assert!(
            e.message.contains("extra_root_cert_path") && e.message.contains(says),
            "{path}: {}",
            e.message
        );
    }

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("msstore-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn devices_directories_and_missing_files_are_refused() {
        refused("/dev/zero", "not a regular file");
        refused("/dev/null", "not a regular file");
        refused(std::env::temp_dir().to_str().unwrap(), "not a regular file");
        refused("/nonexistent/msstore-root.pem", "cannot be read");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = temp_dir("fifo");
        let fifo = dir.join("root.pem");
        // The `mkfifo` command: the library forbids `unsafe` (libc::mkfifo) outside src/ffi.
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo failed");
        // No writer ever opens it: a blocking open would hang this test (and the client) for ever.
        refused(fifo.to_str().unwrap(), "not a regular file");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn credential_files_are_read_the_same_way() {
        let c = crate::Credential::Certificate(crate::CertificateCredential {
            certificate_path: Some("/dev/zero".into()),
            ..Default::default()
        });
        let e = c.validate().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Configuration);
        assert!(
            e.message.contains("certificate_path") && e.message.contains("not a regular file"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_size_bound_is_exact() {
        let dir = temp_dir("size");
        let at_limit = dir.join("at-limit.pem");
        std::fs::write(&at_limit, vec![b'a'; MAX_LOCAL_FILE as usize]).unwrap();
        assert_eq!(
            read_bounded(at_limit.to_str().unwrap(), "x").unwrap().len() as u64,
            MAX_LOCAL_FILE
        );
        let over = dir.join("over.pem");
        std::fs::write(&over, vec![b'a'; MAX_LOCAL_FILE as usize + 1]).unwrap();
        refused_as(over.to_str().unwrap(), "larger than 1048576 bytes");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn refused_as(path: &str, says: &str) {
        let e = read_bounded(path, "certificate_path").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Configuration);
        assert!(e.message.contains(says), "{}", e.message);
    }
}
