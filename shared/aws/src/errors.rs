//! SDK errors into [`StoreError`]: the retryable ones are `Transient`, the rest `Permanent`.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

use collector_core::ports::{ErrorKind, StoreError};

const TRANSIENT_CODES: [&str; 8] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "AWS.SimpleQueueService.RequestThrottled",
];

pub fn sdk_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let kind = match &error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            if TRANSIENT_CODES.contains(&code) {
                ErrorKind::Transient
            } else {
                ErrorKind::Permanent
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => ErrorKind::Transient,
        _ => ErrorKind::Permanent,
    };
    let message = match error.code() {
        Some(code) => format!("{code}: {}", error.message().unwrap_or_default()),
        None => aws_smithy_types::error::display::DisplayErrorContext(&error).to_string(),
    };
    StoreError {
        operation,
        kind,
        message,
    }
}

/// Whether a single write's condition failed (an `…Error::ConditionalCheckFailedException`).
pub fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(error: &E) -> bool {
    error.code() == Some("ConditionalCheckFailedException")
}

/// Why DynamoDB cancelled a transaction, when trying again later can succeed: the items' partitions were
/// throttled or busy, not a condition that failed.
const TRANSIENT_CANCELLATIONS: [&str; 5] = [
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
    "TransactionConflict",
    "InternalServerError",
];

/// Whether a cancelled transaction's reasons say it may succeed when tried again.
pub fn cancelled_transiently(reasons: &[aws_sdk_dynamodb::types::CancellationReason]) -> bool {
    reasons.iter().any(|reason| {
        reason
            .code()
            .is_some_and(|code| TRANSIENT_CANCELLATIONS.contains(&code))
    })
}

/// [`sdk_error`] for a transaction: one cancelled for throttling (a reason per item, no error code of its
/// own that says so) is `Transient`, as a throttled single write is.
pub fn transaction_error<R>(
    operation: &'static str,
    error: SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> StoreError
where
    R: std::fmt::Debug,
{
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let transient = match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            cancelled_transiently(cancelled.cancellation_reasons())
        }
        _ => false,
    };
    let mut described = sdk_error(operation, error);
    if transient {
        described.kind = ErrorKind::Transient;
    }
    described
}

/// An item that does not have the shape the code expects, or a request the SDK refused to build.
pub fn permanent(operation: &'static str, error: impl std::fmt::Display) -> StoreError {
    StoreError {
        operation,
        kind: ErrorKind::Permanent,
        message: error.to_string(),
    }
}
