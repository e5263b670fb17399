//! DynamoDB: notification jobs (`STORE#<s>#JOBS`), their runs, and the sparse `dueJobs` index the scheduler
//! reads.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

use super::dynamo::{from_item, item_of, DynamoTable};
use super::errors::sdk_error;
use super::keys::{self, DUE_SHARD, NEXT_RUN_MS};
use collector_core::domain::ids::StoreId;
use collector_core::domain::job::{Job, JobRun};
use collector_core::ports::{Claim, DueJob, JobSchedule, JobStore, StoreError};

impl JobStore for DynamoTable {
    async fn put_job(&self, job: &Job, next_run: Option<DateTime<Utc>>, create: bool) -> Result<bool, StoreError> {
        let mut item = item_of("job item", keys::job(&job.store_id, &job.id), job)?;
        if let Some(next) = next_run {
            item.insert(DUE_SHARD.to_owned(), AttributeValue::S(keys::due_shard(&job.id)));
            item.insert(
                NEXT_RUN_MS.to_owned(),
                AttributeValue::N(next.timestamp_millis().to_string()),
            );
        }
        let condition = if create {
            "attribute_not_exists(pk)"
        } else {
            "attribute_exists(pk)"
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk_error("put job", e)),
        }
    }

    async fn job(&self, store: &StoreId, id: &str) -> Result<Option<Job>, StoreError> {
        self.get("get job", keys::job(store, id))
            .await?
            .map(|item| from_item("job item", item))
            .transpose()
    }

    async fn jobs(&self, store: &StoreId) -> Result<Vec<Job>, StoreError> {
        let items = self
            .query_all("list jobs", |q| {
                q.key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::jobs(store)))
                    .consistent_read(true)
            })
            .await?;
        items.into_iter().map(|item| from_item("job item", item)).collect()
    }

    async fn job_runs(&self, store: &StoreId, id: &str, limit: usize) -> Result<Vec<JobRun>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(keys::job_runs(store, id)))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error("list job runs", e))?;
        page.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item("job run item", item))
            .collect()
    }
}

fn run_item(store: &StoreId, run: &JobRun) -> Result<crate::dynamo::Item, StoreError> {
    let mut item = item_of(
        "job run item",
        (keys::job_runs(store, &run.job_id), slot_key(run.scheduled_for)),
        run,
    )?;
    if let Some(at) = run.expires_at {
        item.insert("expiresAt".to_owned(), AttributeValue::N(at.to_string()));
    }
    Ok(item)
}

/// Slots sort by time as strings: fixed-width UTC.
fn slot_key(slot: DateTime<Utc>) -> String {
    format!("SLOT#{}", slot.format("%Y-%m-%dT%H:%M:%SZ"))
}

impl JobSchedule for DynamoTable {
    async fn due_jobs(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<DueJob>, StoreError> {
        let mut due = Vec::new();
        for shard in 0..keys::DUE_SHARDS {
            if due.len() >= limit {
                break;
            }
            let items = self
                .query_all("due jobs", |q| {
                    q.index_name(keys::DUE_JOBS_INDEX)
                        .key_condition_expression("#shard = :shard AND #next <= :now")
                        .expression_attribute_names("#shard", DUE_SHARD)
                        .expression_attribute_names("#next", NEXT_RUN_MS)
                        .expression_attribute_values(":shard", AttributeValue::S(format!("DUE#{shard}")))
                        .expression_attribute_values(":now", AttributeValue::N(now.timestamp_millis().to_string()))
                })
                .await?;
            due.extend(items.iter().filter_map(|item| {
                let pk = item.get("pk")?.as_s().ok()?;
                let store_id = StoreId::parse(pk.strip_prefix("STORE#")?.strip_suffix("#JOBS")?).ok()?;
                let job_id = item.get("sk")?.as_s().ok()?.strip_prefix("JOB#")?.to_owned();
                let next_ms: i64 = item.get(NEXT_RUN_MS)?.as_n().ok()?.parse().ok()?;
                Some(DueJob {
                    store_id,
                    job_id,
                    next_run: DateTime::from_timestamp_millis(next_ms)?,
                })
            }));
        }
        due.truncate(limit);
        Ok(due)
    }

    async fn claim_run(&self, store: &StoreId, run: &JobRun, stale_before: DateTime<Utc>) -> Result<Claim, StoreError> {
        let stale =
            serde_dynamo::to_attribute_value(stale_before).map_err(|e| crate::errors::permanent("claim run", e))?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(run_item(store, run)?))
            .condition_expression(
                "attribute_not_exists(pk) OR (attribute_not_exists(finished_at) AND started_at < :stale)",
            )
            .expression_attribute_values(":stale", stale)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let finished = failed.item().is_some_and(|old| old.contains_key("finished_at"));
                    Ok(if finished { Claim::Finished } else { Claim::Running })
                }
                _ => Err(sdk_error("claim run", e)),
            },
        }
    }

    async fn advance_job(
        &self,
        store: &StoreId,
        job_id: &str,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::job(store, job_id);
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .condition_expression("#next = :from")
            .expression_attribute_names("#next", NEXT_RUN_MS)
            .expression_attribute_values(":from", AttributeValue::N(from.timestamp_millis().to_string()));
        let update = match to {
            Some(to) => update
                .update_expression("SET #next = :to")
                .expression_attribute_values(":to", AttributeValue::N(to.timestamp_millis().to_string())),
            None => update
                .update_expression("REMOVE #next, #shard")
                .expression_attribute_names("#shard", DUE_SHARD),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_error("advance job", e)),
        }
    }

    async fn finish_run(&self, store: &StoreId, run: &JobRun) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(run_item(store, run)?))
            .send()
            .await
            .map_err(|e| sdk_error("finish run", e))?;
        Ok(())
    }
}
