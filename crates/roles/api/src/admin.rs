//! The operators' API: the job queue, seen and steered (`streamvault jobs …` over HTTP).
//! Guarded by `STREAMVAULT_ADMIN_TOKEN` as a bearer token; off when that is unset.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use streamvault_core::Error;
use streamvault_core::ErrorCode;
use streamvault_core::ids::JobId;
use streamvault_core::ports::{JobInfo, JobState};
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, QueryParams};

use crate::ApiState;

/// A request that carries the admin token.
pub struct Admin;

impl FromRequestParts<ApiState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &ApiState) -> Result<Self, Self::Rejection> {
        streamvault_http::operator::check(&parts.headers, st.admin_token.as_deref())?;
        Ok(Admin)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Job {
    id: String,
    kind: String,
    /// `queued`, `relaying`, `sent`, `running`, `done` or `dead`.
    #[schema(value_type = String)]
    state: JobState,
    /// JSON.
    payload: String,
    attempts: u32,
    max_attempts: u32,
    run_at: String,
    leased_by: Option<String>,
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<JobInfo> for Job {
    fn from(j: JobInfo) -> Self {
        Job {
            id: j.id.to_string(),
            kind: j.kind,
            state: j.state,
            payload: j.payload,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at.to_rfc3339(),
            leased_by: j.leased_by,
            last_error: j.last_error,
            created_at: j.created_at.to_rfc3339(),
            updated_at: j.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobList {
    jobs: Vec<Job>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Stats {
    queued: u64,
    running: u64,
    dead: u64,
    /// How long the oldest due job has waited.
    oldest_due_secs: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Purged {
    purged: u64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only jobs in this state.
    #[param(schema_with = any_state)]
    state: Option<JobState>,
    /// At most this many, newest first (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// The states of finished jobs.
#[derive(Deserialize, utoipa::ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Finished {
    Done,
    Dead,
}

impl From<Finished> for JobState {
    fn from(f: Finished) -> Self {
        match f {
            Finished::Done => JobState::Done,
            Finished::Dead => JobState::Dead,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurgeQuery {
    /// Finished jobs of this state.
    #[param(inline)]
    state: Finished,
}

fn any_state() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let states = JobState::ALL.map(JobState::as_str);
    ObjectBuilder::new().schema_type(SchemaType::new(Type::String)).enum_values(Some(states)).build()
}

/// Jobs, newest first.
#[utoipa::path(get, path = "/admin/jobs", operation_id = "admin_list_jobs", tag = "admin",
    params(ListQuery), security(("admin" = [])),
    responses(
        (status = 200, description = "OK", body = JobList),
        (status = 400, description = "Unknown state or bad limit", body = ErrorBody),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "Wrong token, or the admin API is off", body = ErrorBody),
    ))]
pub async fn list(
    State(st): State<ApiState>,
    _: Admin,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<JobList>, ApiError> {
    let limit = match q.limit.as_deref() {
        None => 50,
        Some(l) => streamvault_core::paging::parse_whole(l).unwrap_or(0),
    };
    if !(1..=1000).contains(&limit) {
        return Err(ApiError(Error::invalid(ErrorCode::BadLimit, "limit must be between 1 and 1000")));
    }
    let jobs = st.jobs.list(q.state, limit).await?;
    Ok(Json(JobList { jobs: jobs.into_iter().map(Job::from).collect() }))
}

/// Queue depth by state, and the age of the oldest due job.
#[utoipa::path(get, path = "/admin/jobs/stats", operation_id = "admin_job_stats", tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "OK", body = Stats),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "Wrong token, or the admin API is off", body = ErrorBody),
    ))]
pub async fn stats(State(st): State<ApiState>, _: Admin) -> Result<Json<Stats>, ApiError> {
    let s = st.jobs.stats().await?;
    Ok(Json(Stats { queued: s.queued, running: s.running, dead: s.dead, oldest_due_secs: s.oldest_due_secs }))
}

/// One job.
#[utoipa::path(get, path = "/admin/jobs/{id}", operation_id = "admin_get_job", tag = "admin",
    params(("id" = String, Path, description = "Job id")), security(("admin" = [])),
    responses(
        (status = 200, description = "OK", body = Job),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "Wrong token, or the admin API is off", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
    ))]
pub async fn get(State(st): State<ApiState>, _: Admin, Path(id): Path<JobId>) -> Result<Json<Job>, ApiError> {
    let job = st.jobs.get(id).await?.ok_or(ApiError(Error::NotFound("job")))?;
    Ok(Json(job.into()))
}

/// Runs a dead (or waiting) job again now, with a fresh set of attempts.
#[utoipa::path(post, path = "/admin/jobs/{id}/retry", operation_id = "admin_retry_job", tag = "admin",
    params(("id" = String, Path, description = "Job id")), security(("admin" = [])),
    responses(
        (status = 200, description = "Queued again", body = Job),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "Wrong token, or the admin API is off", body = ErrorBody),
        (status = 404, description = "No dead or queued job with this id", body = ErrorBody),
    ))]
pub async fn retry(State(st): State<ApiState>, _: Admin, Path(id): Path<JobId>) -> Result<Json<Job>, ApiError> {
    if !st.jobs.retry(id).await? {
        return Err(ApiError(Error::NotFound("dead or queued job")));
    }
    let job = st.jobs.get(id).await?.ok_or(ApiError(Error::NotFound("job")))?;
    Ok(Json(job.into()))
}

/// Deletes finished jobs of one state.
#[utoipa::path(delete, path = "/admin/jobs", operation_id = "admin_purge_jobs", tag = "admin",
    params(PurgeQuery), security(("admin" = [])),
    responses(
        (status = 200, description = "Purged", body = Purged),
        (status = 400, description = "Not done or dead", body = ErrorBody),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "Wrong token, or the admin API is off", body = ErrorBody),
    ))]
pub async fn purge(
    State(st): State<ApiState>,
    _: Admin,
    QueryParams(q): QueryParams<PurgeQuery>,
) -> Result<Json<Purged>, ApiError> {
    Ok(Json(Purged { purged: st.jobs.purge(q.state.into()).await? }))
}
