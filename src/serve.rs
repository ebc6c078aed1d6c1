//! Accepting connections, plain or TLS (rustls), and serving HTTP/1.1 and HTTP/2 on them
//! with the connection-level limits: how many connections (in all and from one source
//! address), how many HTTP/2 streams on one, how long a client may take to send its request
//! head or finish the TLS handshake, how long a connection may sit idle, and how large a
//! request head may be.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

mod idle;
pub use idle::IdleTimeout;

use crate::domain::ip_allowlist::IpRange;
use crate::http::limits::PerSourceCounter;

/// Limits applied to every connection.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    /// Connections from one source address (an IPv6 source by its /64); trusted proxies,
    /// which carry many clients' connections, are not limited.
    pub max_connections_per_source: u32,
    pub trusted_proxies: Vec<IpRange>,
    /// HTTP/2 streams in progress on one connection.
    pub max_streams_per_connection: u32,
    /// For the request head (from when the connection is ready for a request, so it also
    /// ends idle keep-alive connections) and for the TLS handshake.
    pub header_read_timeout: Duration,
    /// Nothing read or written for this long closes the connection.
    pub idle_timeout: Duration,
    /// Request line and headers; at least 8 KiB.
    pub max_header_bytes: usize,
    pub max_headers: usize,
    /// How long a shutdown waits for requests in flight.
    pub drain_timeout: Duration,
}

/// Loads a certificate chain and its private key (PEM) into a TLS acceptor offering HTTP/2
/// and HTTP/1.1, with rustls' safe defaults (TLS 1.2 and 1.3).
pub fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the TLS certificate {}", cert.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "the TLS certificate file {} holds no PEM certificate",
        cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the TLS private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not go together")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish (for at most the drain timeout). Each request carries the peer's address as
/// [`ConnectInfo<SocketAddr>`].
pub async fn serve<S>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: S,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) where
    S: tower::Service<Request<Incoming>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        // No keep-alive pings: their answers would count as traffic and keep an idle
        // connection open past the idle timeout.
        .max_concurrent_streams(limits.max_streams_per_connection);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let per_source = PerSourceCounter::new(limits.max_connections_per_source);
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    if !is_connection_error(&e) {
                        // Out of file descriptors, say: wait rather than spin.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let trusted = limits.trusted_proxies.iter().any(|r| r.contains(peer.ip()));
        let source_slot = if trusted {
            None
        } else {
            match per_source.claim(peer.ip()) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%peer, "too many connections from this source; closing");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            builder: builder.clone(),
            app: app.clone(),
            peer,
            watcher: graceful.watcher(),
            header_read_timeout: limits.header_read_timeout,
        };
        let tls = tls.clone();
        let handshake_timeout = limits.header_read_timeout;
        let io = IdleTimeout::new(stream, limits.idle_timeout);
        tokio::spawn(async move {
            let _permit = permit;
            let _source_slot = source_slot;
            match tls {
                None => connection.serve(io).await,
                Some(acceptor) => {
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(io)).await {
                        Ok(Ok(stream)) => connection.serve(stream).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    tracing::debug!(
        connections = graceful.count(),
        "waiting for connections to finish"
    );
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain timeout; closing them");
    }
}

/// What serving one connection needs.
struct Connection<S> {
    builder: Arc<auto::Builder<TokioExecutor>>,
    app: S,
    peer: SocketAddr,
    watcher: Watcher,
    header_read_timeout: Duration,
}

impl<S> Connection<S>
where
    S: tower::Service<Request<Incoming>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    /// Serves the connection until it ends. A connection that has not sent a whole request
    /// head within the header read timeout is closed: hyper's own timeout starts only once
    /// the protocol is known, and HTTP/2 has none.
    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            builder,
            app,
            peer,
            watcher,
            header_read_timeout,
        } = self;
        let requested = Arc::new(AtomicBool::new(false));
        let service = hyper::service::service_fn({
            let requested = requested.clone();
            move |mut request: Request<Incoming>| {
                requested.store(true, Ordering::Relaxed);
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request)
            }
        });
        let connection = watcher.watch(
            builder
                .serve_connection_with_upgrades(TokioIo::new(io), service)
                .into_owned(),
        );
        let first_request_due = async {
            tokio::time::sleep(header_read_timeout).await;
            if requested.load(Ordering::Relaxed) {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            result = connection => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            }
            () = first_request_due => {
                tracing::debug!(%peer, "no request within the header read timeout; closing");
            }
        }
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
