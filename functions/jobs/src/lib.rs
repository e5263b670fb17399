//! `/api/v1/jobs`: notification jobs. Create, list, read, replace (`PUT /api/v1/jobs/{jobId}`, or the spec's
//! `PUT /api/v1/jobs` with the id in the body), soft delete (`DELETE`, or the spec's
//! `POST /api/v1/jobs/{jobId}`), and the run history. The tenant is the API key's store.

pub mod wiring;

use chrono::{DateTime, Utc};
use collector_core::domain::api_key::Scope;
use collector_core::domain::ids::StoreId;
use collector_core::domain::job::{parse_job, Job, JobInput};
use collector_core::domain::validation::FieldError;
use collector_core::ports::{AdmissionStore, JobStore};
use collector_core::service::jobs::{self, JobError};
use collector_http::admission::{Arrival, Tenant};
use collector_http::edge::{arrival, json_body, respond_reply, JobDeps, Reply};
use collector_http::job_view::JobView;
use collector_http::routes::{route_path, Routes};
use collector_http::runtime::HttpHandler;
use collector_http::Problem;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;

/// What a request of this function asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    List,
    Create,
    ReplaceByBody,
    Get,
    Replace,
    Delete,
    Runs,
}

/// The function's routes, as `template.yaml` routes them here.
pub static ROUTES: Routes<Endpoint> = Routes(&[
    ("GET", "/api/v1/jobs", Endpoint::List),
    ("POST", "/api/v1/jobs", Endpoint::Create),
    ("PUT", "/api/v1/jobs", Endpoint::ReplaceByBody),
    ("GET", "/api/v1/jobs/{jobId}", Endpoint::Get),
    ("PUT", "/api/v1/jobs/{jobId}", Endpoint::Replace),
    ("DELETE", "/api/v1/jobs/{jobId}", Endpoint::Delete),
    // The spec deletes with POST /api/v1/jobs/{jobId}; DELETE is the usual form.
    ("POST", "/api/v1/jobs/{jobId}", Endpoint::Delete),
    ("GET", "/api/v1/jobs/{jobId}/runs", Endpoint::Runs),
]);
const MAX_BODY_BYTES: usize = 64 * 1024;
const RUNS_SHOWN: usize = 50;

/// The endpoint over its dependencies.
pub struct Handler<S>(JobDeps<S>);

impl<S> From<JobDeps<S>> for Handler<S> {
    fn from(deps: JobDeps<S>) -> Self {
        Self(deps)
    }
}

impl<S: JobStore + AdmissionStore + Sync> HttpHandler for Handler<S> {
    async fn handle(&self, request: Request) -> Response<Body> {
        Handler::handle(self, request).await
    }
}

fn ok(status: StatusCode, label: &str, body: Option<Value>) -> Result<Reply, Problem> {
    Ok(Reply::new(status, label, body))
}

fn problem_of(error: JobError) -> Problem {
    match error {
        JobError::NotFound => Problem::not_found("Job"),
        JobError::IdChanged => Problem::validation(vec![FieldError {
            pointer: "/id".to_owned(),
            detail: "the id of a job cannot change; leave it out or send the id in the path".to_owned(),
        }]),
        JobError::Store(error) => Problem::logged_store_error(error),
    }
}

/// Job ids are 24 hex characters; anything else names no job.
fn job_id(raw: &str) -> Result<&str, Problem> {
    if raw.len() == 24 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(raw)
    } else {
        Err(Problem::not_found("Job"))
    }
}

impl<S: JobStore + AdmissionStore + Sync> Handler<S> {
    /// Answers one request. Never fails: every error is a problem response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let arrival = arrival(&request, self.0.clock.as_ref());
        respond_reply(&request, ("jobs", arrival), self.accept(&request, arrival)).await
    }

    fn view(job: &Job, now: DateTime<Utc>) -> Value {
        serde_json::to_value(JobView::new(job, now)).expect("views serialise")
    }

    async fn accept(&self, request: &Request, arrival: Arrival) -> Result<Reply, Problem> {
        let matched = ROUTES.resolve(request.method().as_str(), route_path(request))?;
        let scope = match matched.to {
            Endpoint::List | Endpoint::Get | Endpoint::Runs => Scope::JobsRead,
            _ => Scope::JobsWrite,
        };
        let access = (Tenant::OfKey, scope);
        let caller = self
            .0
            .admission
            .authorize(&self.0.store, arrival, request.headers(), access)
            .await?;
        let store_id = &caller.store_id;
        let now = caller.now;
        let id = || job_id(matched.param("jobId"));
        match matched.to {
            Endpoint::List => {
                let all = self.0.store.jobs(store_id).await.map_err(Problem::logged_store_error)?;
                let views: Vec<Value> = all.iter().filter(|j| !j.deleted).map(|j| Self::view(j, now)).collect();
                ok(StatusCode::OK, "listed", Some(Value::Array(views)))
            }
            Endpoint::Create => {
                let input =
                    parse_job(&json_body(request, MAX_BODY_BYTES, "the job")?, now).map_err(Problem::validation)?;
                let job = jobs::create(&self.0.store, self.0.ids.as_ref(), store_id, input, now)
                    .await
                    .map_err(problem_of)?;
                ok(StatusCode::CREATED, "created", Some(Self::view(&job, now)))
            }
            // The spec's form: the body's `id` names the job (as `PUT /api/v1/event-subscription` does).
            Endpoint::ReplaceByBody => {
                let input =
                    parse_job(&json_body(request, MAX_BODY_BYTES, "the job")?, now).map_err(Problem::validation)?;
                let id = input.id.clone().ok_or_else(|| {
                    Problem::validation(vec![FieldError {
                        pointer: "/id".to_owned(),
                        detail: "is required: the id of the job to update (or PUT /api/v1/jobs/{jobId})".to_owned(),
                    }])
                })?;
                self.replace(store_id, job_id(&id)?, input, now).await
            }
            Endpoint::Get => {
                let job = self.find(store_id, id()?).await?;
                ok(StatusCode::OK, "found", Some(Self::view(&job, now)))
            }
            Endpoint::Replace => {
                let id = id()?;
                let input =
                    parse_job(&json_body(request, MAX_BODY_BYTES, "the job")?, now).map_err(Problem::validation)?;
                self.replace(store_id, id, input, now).await
            }
            Endpoint::Delete => {
                jobs::delete(&self.0.store, store_id, id()?, now)
                    .await
                    .map_err(problem_of)?;
                ok(StatusCode::NO_CONTENT, "deleted", None)
            }
            Endpoint::Runs => {
                let job = self.find(store_id, id()?).await?;
                let runs = self
                    .0
                    .store
                    .job_runs(store_id, &job.id, RUNS_SHOWN)
                    .await
                    .map_err(Problem::logged_store_error)?;
                ok(
                    StatusCode::OK,
                    "listed",
                    Some(serde_json::to_value(runs).expect("runs serialise")),
                )
            }
        }
    }

    async fn replace(
        &self,
        store_id: &StoreId,
        id: &str,
        input: JobInput,
        now: DateTime<Utc>,
    ) -> Result<Reply, Problem> {
        let job = jobs::replace(&self.0.store, store_id, id, input, now)
            .await
            .map_err(problem_of)?;
        ok(StatusCode::OK, "updated", Some(Self::view(&job, now)))
    }

    async fn find(&self, store_id: &StoreId, id: &str) -> Result<Job, Problem> {
        self.0
            .store
            .job(store_id, id)
            .await
            .map_err(Problem::logged_store_error)?
            .ok_or_else(|| Problem::not_found("Job"))
    }
}
