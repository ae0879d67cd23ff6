use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde_json::{Map, Value};
use streamvault_core::ports::JobState;

#[derive(Debug, Parser)]
#[command(name = "streamvault", version, about = "Self-hosted video site and cloud drive")]
pub struct Cli {
    /// A TOML file of settings (keys as in the README, lower case, without the STREAMVAULT_ prefix).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server with the configured roles (all of them by default).
    Serve(Overrides),
    /// Apply pending schema migrations and exit.
    Migrate(Overrides),
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Inspect and steer background jobs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Media processing.
    Media {
        #[command(subcommand)]
        command: MediaCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Processes videos again from the probe on: the given ids, or with `--unprocessed` every
    /// video that has no HLS ladder yet (uploaded before ffmpeg was installed, or by an older
    /// version). The original keeps playing meanwhile.
    Reprocess {
        ids: Vec<String>,
        #[arg(long)]
        unprocessed: bool,
        #[command(flatten)]
        overrides: Overrides,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Jobs, newest first.
    List {
        /// Only jobs in this state: queued, relaying, sent, running, done or dead.
        #[arg(long, value_parser = job_state)]
        state: Option<JobState>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
        #[command(flatten)]
        overrides: Overrides,
    },
    /// One job, as JSON.
    Show {
        id: String,
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Runs a dead (or waiting) job again now, with fresh attempts.
    Retry {
        id: String,
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Deletes finished jobs in the given state (done or dead).
    Purge {
        #[arg(long, default_value = "done", value_parser = finished_state)]
        state: JobState,
        #[command(flatten)]
        overrides: Overrides,
    },
}

impl JobsCommand {
    pub fn overrides(&self) -> &Overrides {
        match self {
            JobsCommand::List { overrides, .. }
            | JobsCommand::Show { overrides, .. }
            | JobsCommand::Retry { overrides, .. }
            | JobsCommand::Purge { overrides, .. } => overrides,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective settings, secrets masked.
    Check(Overrides),
}

/// Flags that override every other layer; each mirrors a `STREAMVAULT_*` key.
#[derive(Debug, Args, Default)]
pub struct Overrides {
    /// Roles to run: all, or a comma-separated list of api, stream, worker, web.
    #[arg(long)]
    pub roles: Option<String>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub listen: Option<String>,
    /// Directory for the SQLite database, local blobs and staging.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// sqlite://..., mysql://... or postgres://...
    #[arg(long)]
    pub database_url: Option<String>,
    /// fs://..., s3://bucket?endpoint=... or oss://bucket?endpoint=...
    #[arg(long)]
    pub storage_url: Option<String>,
    /// redis://... for shared sessions (default: the database).
    #[arg(long)]
    pub session_url: Option<String>,
    /// amqp://... for the job queue (default: the database).
    #[arg(long)]
    pub queue_url: Option<String>,
    /// redis://... for the event bus and viewer counts between replicas (default: in-process).
    #[arg(long)]
    pub bus_url: Option<String>,
}

impl Overrides {
    /// The given flags as a figment layer; absent flags leave lower layers alone.
    pub fn to_layer(&self) -> figment::providers::Serialized<Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_owned(), Value::String(v));
            }
        };
        put("roles", self.roles.clone());
        put("listen", self.listen.clone());
        put("data_dir", self.data_dir.as_ref().map(|p| p.display().to_string()));
        put("database_url", self.database_url.clone());
        put("storage_url", self.storage_url.clone());
        put("session_url", self.session_url.clone());
        put("queue_url", self.queue_url.clone());
        put("bus_url", self.bus_url.clone());
        figment::providers::Serialized::globals(Value::Object(m))
    }
}

fn job_state(s: &str) -> Result<JobState, String> {
    JobState::parse(s).ok_or_else(|| {
        let all: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
        format!("{s:?} is not a job state ({})", all.join(", "))
    })
}

fn finished_state(s: &str) -> Result<JobState, String> {
    match job_state(s)? {
        st if st.is_finished() => Ok(st),
        _ => Err(format!("only finished jobs are purged: done or dead, not {s}")),
    }
}
