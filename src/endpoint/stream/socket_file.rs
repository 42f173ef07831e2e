//! The file of a Unix server's socket, as CPython 3.13's
//! `create_unix_server` handles it: a stale socket file is removed before
//! binding (any other file is left, and the bind fails with EADDRINUSE),
//! and on close the file is removed only if it is still the one the
//! server bound (same device and inode): a file that was removed, or
//! replaced by another server's socket, is left alone.
//!
//! The server binds the socket itself, not through `Pipe::bind`, whose
//! close removes the path whatever is there now (libuv's rule).

use crate::error::{Result, StatusCode};
use socket2::{Domain, SockAddr, Socket, Type};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The socket file a server made: its path and identity.
#[derive(Clone, Debug)]
pub(super) struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SocketFile {
    /// Removes the file if it is still the one bound; a missing or
    /// replaced file is not an error (asyncio ignores it too).
    pub(super) fn remove_if_ours(&self) {
        let same = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino);
        if same {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A Unix stream socket bound to `name` (a path, or a Linux abstract
/// name starting with NUL), after removing a stale socket file there; the
/// file's identity when it is a path.
pub(super) fn bind_unix(name: &OsStr) -> Result<(Socket, Option<SocketFile>)> {
    let bytes = name.as_bytes();
    let is_abstract = bytes.first() == Some(&0);
    if bytes.is_empty() || (!is_abstract && bytes.contains(&0)) {
        return Err(StatusCode::EINVAL.into());
    }
    let addr = SockAddr::unix(Path::new(name)).map_err(|_| StatusCode::ENAMETOOLONG)?;
    if !is_abstract {
        remove_stale_socket(name);
    }
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    sock.bind(&addr)?;
    if is_abstract {
        return Ok((sock, None));
    }
    let meta = std::fs::symlink_metadata(name)?;
    let file = SocketFile {
        path: PathBuf::from(name),
        dev: meta.dev(),
        ino: meta.ino(),
    };
    Ok((sock, Some(file)))
}

/// Removes a socket file at `path`; other files stay.
fn remove_stale_socket(path: &OsStr) {
    let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    if is_socket {
        let _ = std::fs::remove_file(path);
    }
}
