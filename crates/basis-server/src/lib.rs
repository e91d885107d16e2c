//! The Basis HTTP API: axum routes over the engine, API-key auth confined to one tenant,
//! problem+json errors, Prometheus metrics, the OpenAPI document, graceful shutdown.
//!
//! [`Application::build`] opens the store, loads the policy, binds the listener;
//! [`Application::run_until_stopped`] serves until the shutdown future resolves, then stops the
//! projections and flushes the ledger. Tests bind port 0.

pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use basis_core::Policy;
use basis_core::clock::{Clock, SystemClock};
use basis_engine::{Engine, EngineConfig};
use basis_store::SqliteStore;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::ApiError;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7700";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "./basis-data";

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Data directory (SQLite database inside).
    pub data_dir: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// A policy file replacing the default.
    pub policy_path: Option<PathBuf>,
    /// Largest ingest body.
    pub max_ingest_body: usize,
    /// Engine settings.
    pub engine: EngineConfig,
}

impl ServerConfig {
    /// The configuration as `basis serve` runs it: the interaction graph is written to the data
    /// directory on a clean stop and taken from there at the next start (the other commands
    /// never read or take that file; an erasure by any of them discards it).
    #[must_use]
    pub fn serving(mut self) -> ServerConfig {
        self.engine.keep_graph_snapshot = true;
        self
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            listen: SocketAddr::from(([127, 0, 0, 1], 7700)),
            policy_path: None,
            max_ingest_body: 16 << 20,
            engine: EngineConfig::default(),
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The policy file could not be read or is invalid.
    #[error("policy `{path}`: {reason}")]
    Policy {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] basis_store::StoreError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] basis_engine::EngineError),
    /// Binding or serving failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// Another server holds the data directory.
    #[error(
        "`{0}` is in use by another `basis serve`: two servers on one data directory would both run the projections and snapshot over each other; stop the other one first"
    )]
    DataDirInUse(String),
}

/// The file a server locks in its data directory while it runs.
pub const SERVE_LOCK: &str = "serve.lock";

/// Takes the data directory for this server: an exclusive lock on a file in it, held until the
/// returned file is dropped (released by the OS if the process dies).
///
/// # Errors
/// [`ServerError::DataDirInUse`] when another server holds it; file-system failures.
pub fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, ServerError> {
    let unusable = |e: std::io::Error| {
        ServerError::Store(basis_store::StoreError::DataDir {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })
    };
    std::fs::create_dir_all(dir).map_err(unusable)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(SERVE_LOCK))
        .map_err(unusable)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(ServerError::DataDirInUse(dir.display().to_string()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(unusable(e)),
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Engine,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Prometheus renderer.
    pub metrics: PrometheusHandle,
}

/// Loads the policy from a file, or the default.
///
/// # Errors
/// [`ServerError::Policy`] naming the file and the problem.
pub fn load_policy(path: Option<&std::path::Path>) -> Result<Policy, ServerError> {
    let Some(path) = path else {
        return Policy::default_policy().map_err(|e| ServerError::Policy {
            path: "(default)".into(),
            reason: e.to_string(),
        });
    };
    let text = std::fs::read_to_string(path).map_err(|e| ServerError::Policy {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Policy::from_toml(&text).map_err(|e| ServerError::Policy {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Opens the engine on the embedded store in `config.data_dir`.
///
/// # Errors
/// Policy, store or engine failures.
pub async fn open_engine(
    config: &ServerConfig,
    clock: Arc<dyn Clock>,
) -> Result<(Engine, SqliteStore), ServerError> {
    let policy = Arc::new(load_policy(config.policy_path.as_deref())?);
    let store = SqliteStore::open(&config.data_dir).await?;
    let mut engine_config = config.engine.clone();
    // Every engine on the directory knows where the graph's snapshot lives (an erasure
    // discards one left there); only a serving one takes and writes it.
    engine_config
        .graph_snapshot
        .get_or_insert_with(|| config.data_dir.join(basis_engine::GRAPH_SNAPSHOT));
    let engine = Engine::new(Arc::new(store.clone()), policy, clock, engine_config).await?;
    Ok((engine, store))
}

/// The global Prometheus recorder (one per process; tests start several servers).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (embedding); then ours renders empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// How long a stopping server waits for its background work (the graph's snapshot above all).
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(120);

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    store: Option<SqliteStore>,
    /// The data directory's lock, held while serving.
    _lock: Option<std::fs::File>,
}

impl Application {
    /// Takes the data directory (see [`lock_data_dir`]), opens the store, loads the policy and
    /// binds the listener.
    ///
    /// # Errors
    /// Policy, store, engine or bind failures.
    pub async fn build(config: ServerConfig) -> Result<Application, ServerError> {
        let lock = lock_data_dir(&config.data_dir)?;
        let config = config.serving();
        let (engine, store) = open_engine(&config, Arc::new(SystemClock)).await?;
        let listener = TcpListener::bind(config.listen).await?;
        let mut app = Application::with_engine(listener, engine, config);
        app.store = Some(store);
        app._lock = Some(lock);
        Ok(app)
    }

    /// A server over an engine built elsewhere (tests inject a clock).
    pub fn with_engine(listener: TcpListener, engine: Engine, config: ServerConfig) -> Application {
        Application {
            listener,
            state: AppState {
                engine,
                config: Arc::new(config),
                metrics: metrics_handle(),
            },
            store: None,
            _lock: None,
        }
    }

    /// The bound address.
    ///
    /// # Errors
    /// When the socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.state.engine
    }

    /// The router, with metrics middleware and problem+json fallbacks.
    pub fn router(state: AppState) -> Router {
        routes::router()
            .fallback(|| async { ApiError::NotFound })
            .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
            .layer(middleware::from_fn(finish_writes))
            .layer(middleware::from_fn(track))
            .with_state(state)
    }

    /// Serves until `shutdown` resolves, then stops background work, flushes the ledger and
    /// closes the store.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let background = self.state.engine.start_background(stop_rx);
        let engine = self.state.engine.clone();
        let router = Application::router(self.state);
        tracing::info!(addr = %self.listener.local_addr()?, "basis is listening");
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        let _ = stop_tx.send(true);
        // The graph worker writes its snapshot on the way out (about a second per 400 MB). Past
        // the deadline the snapshot is abandoned before the data directory is let go, so it is
        // not put in place while another server may run.
        let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
        let mut late = 0;
        for task in background {
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                late += 1;
            }
        }
        if late > 0 {
            tracing::warn!(
                tasks = late,
                "background work did not stop in time; a graph snapshot still being written is dropped"
            );
            engine.abandon_graph_snapshot();
        }
        if let Err(e) = engine.flush_ledger().await {
            tracing::error!(error = %e, "final ledger flush failed");
        }
        if let Some(store) = self.store {
            store.close().await;
        }
        tracing::info!("basis stopped");
        served.map_err(ServerError::Io)
    }
}

/// Runs a request that may write (any method but GET and HEAD) on a task of its own, so a client
/// that goes away mid-request cannot cancel it between the store and what the engine keeps in
/// memory (the subject cache the gate reads, the interaction graph) or its audit entry: a write
/// that started is finished. An objection stored but cut off before the cache forgot the old
/// state would otherwise not take effect in this process.
pub async fn finish_writes(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(e) => ApiError::Engine(basis_engine::EngineError::Store(
            basis_store::StoreError::Write(format!("the request's task failed: {e}")),
        ))
        .into_response(),
    }
}

/// Counts requests and their latency by route template (never by raw path: ids are personal).
async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await.into_response();
    let status = response.status().as_u16().to_string();
    metrics::counter!("basis_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("basis_http_request_duration_seconds", "method" => method, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::routing::put;
    use tower::ServiceExt;

    use super::*;

    /// A write whose client goes away mid-request (its future dropped) still runs to the end;
    /// a read is simply dropped.
    #[tokio::test]
    async fn a_write_runs_to_the_end_when_the_client_goes_away() {
        struct Probe {
            started: tokio::sync::Notify,
            release: tokio::sync::Notify,
            done: tokio::sync::Notify,
            finished: AtomicBool,
        }
        let probe = || {
            Arc::new(Probe {
                started: tokio::sync::Notify::new(),
                release: tokio::sync::Notify::new(),
                done: tokio::sync::Notify::new(),
                finished: AtomicBool::new(false),
            })
        };
        let handler = |p: Arc<Probe>| {
            move || async move {
                p.started.notify_one();
                p.release.notified().await;
                p.finished.store(true, Ordering::SeqCst);
                p.done.notify_one();
            }
        };
        let (write, read) = (probe(), probe());
        let app = Router::new()
            .route("/w", put(handler(write.clone())).get(handler(read.clone())))
            .layer(middleware::from_fn(finish_writes));
        // Each request's client goes away once its handler has started; then it is released.
        for (method, p, runs_on) in [("PUT", &write, true), ("GET", &read, false)] {
            let request = Request::builder()
                .method(method)
                .uri("/w")
                .body(axum::body::Body::empty())
                .unwrap();
            tokio::select! {
                _ = app.clone().oneshot(request) => panic!("answered before it was released"),
                () = p.started.notified() => {}
            }
            p.release.notify_one();
            let finished = tokio::time::timeout(Duration::from_secs(1), p.done.notified())
                .await
                .is_ok();
            assert_eq!(finished, runs_on, "{method}");
            assert_eq!(p.finished.load(Ordering::SeqCst), runs_on, "{method}");
        }
    }
}
