//! `spawn_app()`: a real server on port 0 over a fresh data directory, with a manual clock and
//! typed helpers.

use std::net::SocketAddr;
use std::sync::Arc;

use basis_core::Timestamp;
use basis_core::clock::ManualClock;
use basis_engine::Engine;
use basis_server::{Application, ServerConfig, open_engine};
use basis_store::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub admin: String,
    pub service: String,
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub const T0: &str = "2026-11-01T09:00:00Z";

pub fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        data_dir: dir.path().to_path_buf(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_ingest_body: 1 << 20,
        ..ServerConfig::default()
    };
    let clock = Arc::new(ManualClock::new(at(T0)));
    let (engine, _store) = open_engine(&config, clock.clone()).await.unwrap();
    let admin = engine
        .create_key("acme", Role::Admin, "admin-key")
        .await
        .unwrap();
    let service = engine
        .create_key("acme", Role::Service, "backend")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let app = Application::with_engine(listener, engine.clone(), config);
    let addr = app.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        admin,
        service,
        engine,
        clock,
        _dir: dir,
        _stop: stop,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::from_response(req.send().await.unwrap()).await
    }

    pub async fn raw(
        &self,
        path: &str,
        key: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let req = self
            .client
            .post(self.url(path))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body);
        Reply::from_response(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, Some(&self.admin), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(&self.admin), Some(body))
            .await
    }

    pub async fn put_person(&self, id: &str, body: Value) -> Reply {
        self.send(
            Method::PUT,
            &format!("/v1/people/{id}"),
            Some(&self.admin),
            Some(body),
        )
        .await
    }

    pub async fn ingest(&self, events: &Value) -> Reply {
        self.post("/v1/events", events.clone()).await
    }

    pub async fn decide(&self, person: &str, purpose: &str, at: Option<&str>) -> Value {
        let mut body = json!({ "person": person, "purpose": purpose });
        if let Some(t) = at {
            body["at"] = json!(t);
        }
        let r = self.post("/v1/decisions", body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body
    }

    pub async fn log_len(&self) -> usize {
        let r = self.get("/v1/events?limit=1000").await;
        r.body["events"].as_array().unwrap().len()
    }

    pub fn set_time(&self, text: &str) {
        self.clock.set(at(text));
    }
}

impl Reply {
    pub async fn from_response(r: reqwest::Response) -> Reply {
        let status = r.status();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            body,
            text,
        }
    }

    /// Asserts a problem+json with `status` and `code`.
    pub fn assert_problem(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status.as_u16());
    }
}

pub fn event(id: &str, actor: &str) -> Value {
    json!({ "id": id, "type": "comment.created", "at": "2026-10-30T10:00:00Z", "source": "confluence",
            "actor": actor, "object": { "id": "page-9", "kind": "page", "title": "Q3 plan", "container": "space-ENG",
            "visibility": { "members": ["team-eng", actor] } }, "mentions": ["u-bob"],
            "context": { "ip": "203.0.113.7", "country": "DE" } })
}
