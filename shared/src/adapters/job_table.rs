//! DynamoDB: notification jobs (`STORE#<s>#JOBS`), their runs, and the sparse `dueJobs` index the scheduler
//! reads.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::dynamo::{from_item, item_of, DynamoTable};
use super::errors::sdk_error;
use super::keys::{self, DUE_SHARD, NEXT_RUN_MS};
use crate::domain::ids::StoreId;
use crate::domain::job::{Job, JobRun};
use crate::ports::{JobStore, StoreError};

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
