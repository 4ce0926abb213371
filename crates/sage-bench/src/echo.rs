//! The unprotected reference: `POST /echo` answers the request body
//! as is, served by the node's own HTTP stack (axum with the node's
//! middleware, [`sage_node::server::layers::wrap`]: request ids, tracing,
//! HTTP metrics, body limit, timeout) but with no protocol at all.
//!
//! Layer: the bench's reference endpoint. Driven by the `echo`
//! operation of this tool (`loadtest/scenarios/echo.yaml`) or by `oha` /
//! `wrk` (`sage-bench echo-server`), it gives the cost of the security as
//! a ratio: the same load shape, the same HTTP stack, without handshakes,
//! signatures or encryption.
//!
//! What it does not do: anything of the protocol. It is a reference, not
//! a service: serve it on loopback only.

use core::time::Duration;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::BenchError;

/// The echo route.
pub const ECHO_PATH: &str = "/echo";

/// The node's default body limit (1 MiB), for the same stack.
const BODY_LIMIT: usize = 1024 * 1024;

/// The node's default request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A running echo server; stop it with [`EchoServer::shutdown`].
#[derive(Debug)]
pub struct EchoServer {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn echo(body: Bytes) -> Bytes {
    body
}

impl EchoServer {
    /// Serves `POST /echo` on `listen` (port 0 picks a free port).
    ///
    /// # Errors
    /// [`BenchError::Io`] when the address cannot be bound.
    pub async fn start(listen: SocketAddr) -> Result<Self, BenchError> {
        let bind_error = |source| BenchError::Io {
            path: listen.to_string().into(),
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let router = Router::new().route(ECHO_PATH, post(echo));
        let app = sage_node::server::layers::wrap(router, BODY_LIMIT, REQUEST_TIMEOUT);
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // An error means the sender is gone: stop as well.
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
        });
        Ok(Self {
            local_addr,
            stop,
            task,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The echo URL.
    pub fn url(&self) -> String {
        format!("http://{}{ECHO_PATH}", self.local_addr)
    }

    /// Stops serving and waits (a second at most) for open requests.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(1), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_echo_answers_the_body_unchanged_and_only_on_post() {
        let server = EchoServer::start(([127, 0, 0, 1], 0).into()).await.unwrap();
        let http = reqwest::Client::new();
        let body: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let answer = http
            .post(server.url())
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        assert_eq!(answer.bytes().await.unwrap().as_ref(), body.as_slice());
        let get = http.get(server.url()).send().await.unwrap();
        assert_eq!(get.status().as_u16(), 405);
        server.shutdown().await;
    }
}
