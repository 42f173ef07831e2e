//! asyncio's stream side: [`Protocol`], [`BufferedProtocol`],
//! [`StreamTransport`], [`create_connection`], [`create_server`] and
//! [`Server`], Unix sockets and pipes, on ruv's public [`Tcp`](crate::Tcp)
//! and [`Pipe`](crate::Pipe).

mod conn;
mod connect;
mod options;
mod pipes;
mod protocol;
mod resolve;
mod server;
mod socket_file;
mod transport;

pub use connect::{
    connect_accepted_socket, create_buffered_connection, create_connection, create_unix_connection,
    ConnectError,
};
pub use options::{ConnectionOptions, ServerOptions};
pub use pipes::{connect_read_pipe, connect_write_pipe};
pub use protocol::{BufferedProtocol, Protocol};
pub use server::{create_server, create_server_with, create_unix_server, Server};
pub use transport::{AnyProtocol, SocketName, StreamTransport, READ_SIZE_HINT};

pub(crate) use pipes::pipe_transport;
pub(crate) use transport::Kind;
