//! Jobs as the API shows them: the spec's fields (snake case, as the spec has them), the time zone, and the
//! next runs so a user can see the schedule means what they meant.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use collector_core::domain::job::{Job, Notification};

/// How many upcoming runs a job shows.
pub const NEXT_RUNS_SHOWN: usize = 5;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: String,
    pub notification: Notification,
    pub schedule: String,
    /// The same expression: the spec has both names.
    #[serde(rename = "scheduleExpression")]
    pub schedule_expression: String,
    /// IANA time zone the schedule is read in.
    pub time_zone: String,
    pub template_id: String,
    pub number_of_items_in_email: i64,
    pub job_parameters: BTreeMap<String, String>,
    /// The SendGrid unsubscribe group its mail goes under, instead of the store's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsubscribe_group_id: Option<u32>,
    pub is_active: bool,
    pub is_scheduled: bool,
    pub deleted: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// The next runs (none when the job is inactive, unscheduled or deleted).
    #[schema(value_type = Vec<String>)]
    pub next_runs: Vec<DateTime<Utc>>,
}

impl JobView {
    pub fn new(job: &Job, now: DateTime<Utc>) -> Self {
        let next_runs = match job.parsed_schedule().filter(|_| job.runs()) {
            Some((schedule, zone)) => schedule.upcoming(now, zone, job.created_at, NEXT_RUNS_SHOWN),
            None => Vec::new(),
        };
        Self {
            id: job.id.clone(),
            notification: job.notification,
            schedule: job.schedule.clone(),
            schedule_expression: job.schedule.clone(),
            time_zone: job.time_zone.clone(),
            template_id: job.template_id.clone(),
            number_of_items_in_email: job.number_of_items_in_email,
            job_parameters: job.job_parameters.clone(),
            unsubscribe_group_id: job.unsubscribe_group_id,
            is_active: job.is_active,
            is_scheduled: job.is_scheduled,
            deleted: job.deleted,
            created_at: job.created_at,
            updated_at: job.updated_at,
            next_runs,
        }
    }
}
