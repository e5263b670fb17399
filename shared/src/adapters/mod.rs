//! Adapters: the ports implemented on AWS. SDK errors become [`crate::ports::StoreError`] here, and
//! conditional-check failures become outcomes.

pub mod activity_table;
pub mod admission_table;
pub mod audience_table;
pub mod dispatch_table;
pub mod dynamo;
pub mod entity_table;
pub mod erasure_table;
pub mod errors;
pub mod job_table;
pub mod key_table;
pub mod keys;
pub mod kms;
pub mod publisher;
pub mod sendgrid;
pub mod sqs;
pub mod webhook;
pub mod wiring;

/// Loads the AWS configuration from the environment (region, credentials, and `AWS_ENDPOINT_URL` for the
/// local stack). Builds no client and opens no connection: cheap on a cold start.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}
