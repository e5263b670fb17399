//! The OpenAPI description of `/api/v1/jobs`. The request type describes the body `collector_core::domain::job`
//! accepts; keep them in step.

#![allow(dead_code)] // the request type and path functions exist for the schema only

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::job_view::JobView;
use super::problem::ProblemDetails as Problem;
use collector_core::domain::job::{JobRun, Notification};

/// A notification job as sent (snake case, as the spec has it).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobRequest {
    /// Ignored on create; on `PUT /api/v1/jobs/{jobId}` it must be the id in the path; on `PUT /api/v1/jobs`
    /// it names the job to update.
    id: Option<String>,
    notification: Notification,
    /// `cron(min hour dom month dow year)` (one of dom/dow is `?`), `rate(n minutes|hours|days)`, or
    /// five-field cron.
    #[schema(example = "cron(0 9 * * ? *)")]
    schedule: Option<String>,
    /// The same as `schedule`; either may carry the expression.
    #[serde(rename = "scheduleExpression")]
    schedule_expression: Option<String>,
    /// IANA time zone of the schedule; default UTC.
    #[schema(example = "Europe/Kyiv")]
    time_zone: Option<String>,
    /// SendGrid dynamic template id.
    #[schema(example = "d-0123456789abcdef0123456789abcdef")]
    template_id: String,
    /// 1 to 50, or -1 for the whole wishlist; default -1.
    number_of_items_in_email: Option<i64>,
    /// `campaign_id` and UTM fields (`utm_source`, `utm_medium`, `utm_campaign`, `utm_content`, `utm_term`,
    /// `utm_id`), carried into the links.
    job_parameters: Option<BTreeMap<String, String>>,
    /// The SendGrid unsubscribe group (ASM) its mail goes under, instead of the store's email identity's.
    unsubscribe_group_id: Option<u32>,
    /// Default true.
    is_active: Option<bool>,
    /// Default true.
    is_scheduled: Option<bool>,
    deleted: Option<bool>,
}

const JOB: &str = "The job (24 hex characters)";

/// Create a notification job.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "Jobs",
    request_body(content = JobRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Created, with its next runs", body = JobView),
        (status = 400, description = "Invalid fields; a schedule error says why", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks jobs:write, or X-TWC-Tenant names another tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn create_job() {}

/// The tenant's jobs, deleted ones left out.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "Jobs",
    responses((status = 200, description = "The jobs", body = Vec<JobView>)),
    security(("Bearer" = [])))]
fn list_jobs() {}

/// One job (a deleted one shows `deleted: true`).
#[utoipa::path(get, path = "/api/v1/jobs/{jobId}", tag = "Jobs",
    params(("jobId" = String, Path, description = JOB)),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 404, description = "No such job for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn get_job() {}

/// Replace a job; its id cannot change.
#[utoipa::path(put, path = "/api/v1/jobs/{jobId}", tag = "Jobs",
    params(("jobId" = String, Path, description = JOB)),
    request_body(content = JobRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced", body = JobView),
        (status = 400, description = "Invalid fields, or another id in the body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn replace_job() {}

/// Replace the job the body's `id` names (the spec's form of the update); its id cannot change.
#[utoipa::path(put, path = "/api/v1/jobs", tag = "Jobs",
    request_body(content = JobRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced", body = JobView),
        (status = 400, description = "Invalid fields, or no id in the body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn replace_job_by_body() {}

/// Delete a job: it is marked `deleted` and leaves the schedule.
#[utoipa::path(delete, path = "/api/v1/jobs/{jobId}", tag = "Jobs",
    params(("jobId" = String, Path, description = JOB)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such job for this tenant, or already deleted", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn delete_job() {}

/// Delete a job, in the spec's form: the same as `DELETE` on this path.
#[utoipa::path(post, path = "/api/v1/jobs/{jobId}", tag = "Jobs", operation_id = "delete_job_by_post",
    params(("jobId" = String, Path, description = JOB)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such job for this tenant, or already deleted", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn delete_job_by_post() {}

/// The job's runs, latest first.
#[utoipa::path(get, path = "/api/v1/jobs/{jobId}/runs", tag = "Jobs",
    params(("jobId" = String, Path, description = JOB)),
    responses(
        (status = 200, description = "Runs", body = Vec<JobRun>),
        (status = 404, description = "No such job for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn list_job_runs() {}
