//! [`SubprocessOptions`]: the keyword arguments of asyncio's
//! `subprocess_exec` and `subprocess_shell`.

use std::ffi::OsString;
use std::os::fd::RawFd;
use std::path::PathBuf;

/// What one of the child's standard descriptors is (asyncio's `PIPE`,
/// `DEVNULL`, `None`, a file descriptor, `STDOUT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubprocessStdio {
    /// A pipe to the parent, with a transport
    /// ([`get_pipe_transport`](super::SubprocessTransport::get_pipe_transport)).
    #[default]
    Pipe,
    /// `/dev/null`.
    DevNull,
    /// The parent's own descriptor of the same number.
    Inherit,
    /// A copy of this descriptor of the parent's (it stays the caller's).
    Fd(RawFd),
    /// For stderr only: the same as the child's stdout (asyncio's
    /// `STDOUT`); EINVAL for stdin or stdout.
    Stdout,
}

/// How [`subprocess_exec`](super::subprocess_exec) and
/// [`subprocess_shell`](super::subprocess_shell) start the child.
/// `Default`: all three descriptors piped, our environment and directory.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SubprocessOptions {
    /// Descriptor 0.
    pub stdin: SubprocessStdio,
    /// Descriptor 1.
    pub stdout: SubprocessStdio,
    /// Descriptor 2.
    pub stderr: SubprocessStdio,
    /// The working directory; `None`: ours.
    pub cwd: Option<PathBuf>,
    /// The whole environment, as `(name, value)` pairs; `None`: ours.
    pub env: Option<Vec<(OsString, OsString)>>,
}

impl SubprocessOptions {
    /// Sets stdin.
    #[must_use = "a setter returns the changed options"]
    pub fn with_stdin(mut self, s: SubprocessStdio) -> SubprocessOptions {
        self.stdin = s;
        self
    }

    /// Sets stdout.
    #[must_use = "a setter returns the changed options"]
    pub fn with_stdout(mut self, s: SubprocessStdio) -> SubprocessOptions {
        self.stdout = s;
        self
    }

    /// Sets stderr.
    #[must_use = "a setter returns the changed options"]
    pub fn with_stderr(mut self, s: SubprocessStdio) -> SubprocessOptions {
        self.stderr = s;
        self
    }

    /// Sets the working directory.
    #[must_use = "a setter returns the changed options"]
    pub fn with_cwd(mut self, cwd: impl Into<PathBuf>) -> SubprocessOptions {
        self.cwd = Some(cwd.into());
        self
    }

    /// Sets the whole environment.
    #[must_use = "a setter returns the changed options"]
    pub fn with_env<I, K, V>(mut self, env: I) -> SubprocessOptions
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env = Some(env.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }
}
