//! `basis`: the command line. Thin: parse flags, build config, call the library.

mod bench;
mod bench_graph;
mod demo;
mod eval;
mod import;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use basis_core::clock::SystemClock;
use basis_core::notice::{Format, render};
use basis_server::{
    Application, DEFAULT_DATA_DIR, DEFAULT_LISTEN, ServerConfig, load_policy, open_engine,
};
use basis_store::Role;
use clap::{Parser, Subcommand};

/// Basis: team intelligence in which every use of personal data has a declared purpose and a
/// legal basis.
#[derive(Debug, Parser)]
#[command(name = "basis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct DataArgs {
    /// Data directory (created if missing).
    #[arg(long, env = "BASIS_DATA", default_value = DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// A policy file replacing the default policy.
    #[arg(long, env = "BASIS_POLICY")]
    policy: Option<PathBuf>,
}

impl DataArgs {
    fn config(&self) -> ServerConfig {
        ServerConfig {
            data_dir: self.data.clone(),
            policy_path: self.policy.clone(),
            ..ServerConfig::default()
        }
    }
}

/// A half-life in days: positive, at most ten years.
fn half_life(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(d) if d > 0.0 && d <= 3_650.0 => Ok(d),
        _ => Err(format!(
            "`{text}` is not a number of days above 0 and at most 3650"
        )),
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the store and print an admin key (the only line on stdout).
    Init {
        #[command(flatten)]
        data: DataArgs,
        /// Workspace (tenant) name.
        #[arg(long, default_value = "default")]
        tenant: String,
    },
    /// Serve the HTTP API.
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on.
        #[arg(long, env = "BASIS_LISTEN", default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Half-life of an interaction's weight in the @mention and connection ranking, in days
        /// (3 ranks best on Enron; 27 keeps a month of history).
        #[arg(long, env = "BASIS_TIE_HALF_LIFE_DAYS", default_value_t = 3.0, value_parser = half_life)]
        tie_half_life_days: f64,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Import NDJSON events into the store (resumable: re-running stores nothing twice).
    Import {
        /// NDJSON file, one event per line.
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        /// Workspace (tenant).
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Events per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
    },
    /// Seed a realistic synthetic workspace so every feature has something to show.
    Demo {
        #[command(flatten)]
        data: DataArgs,
        /// Workspace (tenant).
        #[arg(long, default_value = "default")]
        tenant: String,
        /// People to create.
        #[arg(long, default_value_t = 300)]
        people: usize,
        /// Random seed (the same seed gives the same workspace).
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Check or render a policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Configure webhooks and print the URLs to paste into each tool.
    Hooks {
        #[command(subcommand)]
        command: HooksCommand,
    },
    /// Quality evaluations on real data sets.
    Eval {
        #[command(subcommand)]
        command: eval::EvalCommand,
    },
    /// Benchmarks measured on this machine.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create a key (creating the tenant if new) and print it.
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// Workspace (tenant).
        #[arg(long, default_value = "default")]
        tenant: String,
        /// `admin` or `service`.
        #[arg(long, default_value = "service")]
        role: String,
        /// A name for the audit log.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum HooksCommand {
    /// Set a source's secret (a random one is made and printed if none is given) and print the
    /// URL to paste into the tool.
    Set {
        #[command(flatten)]
        data: DataArgs,
        /// `jira`, `confluence`, `trello`, `github` or `slack`.
        source: String,
        /// Workspace (tenant).
        #[arg(long, default_value = "default")]
        tenant: String,
        /// The shared secret (at least 16 bytes; Slack's signing secret for Slack).
        #[arg(long, env = "BASIS_HOOK_SECRET")]
        secret: Option<String>,
        /// Where the tools reach Basis.
        #[arg(long, default_value = "http://127.0.0.1:7700")]
        public_url: String,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Validate a policy file; errors name the purpose and field.
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// Render the privacy notice.
    Render {
        /// Policy file (default: the built-in policy).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// `md` or `html`.
        #[arg(long, default_value = "md")]
        format: String,
    },
}

/// mimalloc rather than the system allocator: request paths allocate many small, short-lived
/// values next to large, long-lived graph state, and glibc's allocator slows down (and varies
/// run to run) as that heap fragments — measured on `basis bench mentions`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init { data, tenant } => {
            let (engine, store) = open_engine(&data.config(), Arc::new(SystemClock)).await?;
            let key = engine.create_key(&tenant, Role::Admin, "init").await?;
            store.close().await;
            println!("{key}");
            eprintln!(
                "created the store in `{}`; the line above is an admin key for workspace `{tenant}`: keep it, it is not shown again",
                data.data.display()
            );
        }
        Command::Serve {
            data,
            listen,
            tie_half_life_days,
        } => {
            let mut config = ServerConfig {
                listen,
                ..data.config()
            };
            config.engine.affinity.half_life_days = tie_half_life_days;
            let app = Application::build(config).await?;
            if app.engine().store().count_api_keys().await? == 0 {
                let key = app
                    .engine()
                    .create_key("default", Role::Admin, "first-run")
                    .await?;
                eprintln!("first run: created the store in `{}`", data.data.display());
                eprintln!("admin key for workspace `default` (shown once): {key}");
            }
            eprintln!("basis listening on http://{}", app.local_addr()?);
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Key {
            command:
                KeyCommand::Create {
                    data,
                    tenant,
                    role,
                    name,
                },
        } => {
            let role = Role::parse(&role)
                .with_context(|| format!("`{role}` is not a role: use `admin` or `service`"))?;
            let (engine, store) = open_engine(&data.config(), Arc::new(SystemClock)).await?;
            let key = engine.create_key(&tenant, role, &name).await?;
            store.close().await;
            println!("{key}");
        }
        Command::Import {
            file,
            data,
            tenant,
            batch,
        } => import::run(&file, &data.config(), &tenant, batch).await?,
        Command::Demo {
            data,
            tenant,
            people,
            seed,
        } => demo::run(&data.config(), &tenant, people, seed).await?,
        Command::Policy {
            command: PolicyCommand::Check { file },
        } => {
            let policy = load_policy(Some(&file))?;
            println!(
                "ok: policy `{}` with {} purposes",
                policy.version,
                policy.purposes().len()
            );
        }
        Command::Policy {
            command: PolicyCommand::Render { policy, format },
        } => {
            let Some(format) = Format::parse(&format) else {
                bail!("`{format}` is not a format: use `md` or `html`");
            };
            let policy = load_policy(policy.as_deref())?;
            let mut out = std::io::stdout().lock();
            out.write_all(render(&policy, format).as_bytes())?;
        }
        Command::Hooks {
            command:
                HooksCommand::Set {
                    data,
                    source,
                    tenant,
                    secret,
                    public_url,
                },
        } => {
            let (engine, store) = open_engine(&data.config(), Arc::new(SystemClock)).await?;
            let generated = secret.is_none();
            let secret = match secret {
                Some(s) => s,
                None => basis_engine::keys::generate()?
                    .trim_start_matches(basis_engine::keys::KEY_PREFIX)
                    .to_owned(),
            };
            let url = format!(
                "{}/v1/hooks/{source}?tenant={tenant}",
                public_url.trim_end_matches('/')
            );
            let callback = (source == "trello").then_some(url.as_str());
            let actor = basis_engine::Actor {
                tenant: &tenant,
                name: "cli",
            };
            engine.set_hook(&actor, &source, &secret, callback).await?;
            store.close().await;
            println!("{url}");
            if generated {
                eprintln!("secret (paste it into {source}; it is not shown again): {secret}");
            }
            eprintln!(
                "{}",
                match source.as_str() {
                    "github" =>
                        "GitHub: repository settings, Webhooks: Payload URL above, content type application/json, this secret",
                    "slack" =>
                        "Slack: set your app's signing secret here (--secret), then the Request URL above under Event Subscriptions",
                    "trello" =>
                        "Trello: register the URL above as the webhook callbackURL, with this secret as your app secret",
                    _ =>
                        "Jira/Confluence: system webhooks, URL above, this secret (signature header X-Hub-Signature)",
                }
            );
        }
        Command::Eval { command } => eval::run(command)?,
        Command::Bench { command } => bench::run(command).await?,
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
