//! asyncio's subprocess transports: [`subprocess_exec`],
//! [`subprocess_shell`], [`SubprocessTransport`] and the
//! [`SubprocessProtocol`] trait, on ruv's public
//! [`Process`](crate::Process) and [`Pipe`](crate::Pipe).

mod create;
mod options;
mod protocol;
mod transport;

pub use create::{subprocess_exec, subprocess_shell};
pub use options::{SubprocessOptions, SubprocessStdio};
pub use protocol::SubprocessProtocol;
pub use transport::SubprocessTransport;
