//! Throttling as DynamoDB does it: every partition (of the table and of each index) has a bucket of write
//! units that refills at its rate and holds at most its burst; a write that finds a bucket of one of the
//! partitions it touches too empty is refused, whole, with the answer DynamoDB gives (a single write
//! `ProvisionedThroughputExceededException`, a transaction `TransactionCanceledException` with a
//! `ThrottlingError` reason, a batch write its items back unprocessed). Rates are DynamoDB's scaled down,
//! so a scenario throttles on this machine against moto as it would at scale. Which partitions a write
//! touches, and how many units, comes from the heat recorder (`heat::Recorder::peek_writes`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::body::SdkBody;

use crate::faults::{error_response, throttled_transaction, unprocessed};

/// The writes whose partitions the buckets judge.
const WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "TransactWriteItems",
    "BatchWriteItem",
];

#[derive(Debug)]
pub struct PartitionBuckets {
    /// Write units a second each partition gets.
    rate: f64,
    /// The most a partition saves up.
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    throttled: AtomicUsize,
}

impl PartitionBuckets {
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            buckets: Mutex::default(),
            throttled: AtomicUsize::new(0),
        }
    }

    /// How many writes were refused so far.
    pub fn throttled(&self) -> usize {
        self.throttled.load(Ordering::SeqCst)
    }

    /// DynamoDB's answer when `operation` (`PutItem` …) may not write `writes` now (partition, units), or
    /// `None` when every bucket has the units, which are then taken.
    pub(crate) fn refuse(
        &self,
        operation: &str,
        request: &[u8],
        writes: &[(String, f64)],
    ) -> Option<Response<SdkBody>> {
        if !WRITES.contains(&operation) || writes.is_empty() {
            return None;
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap();
        let mut needed: HashMap<&str, f64> = HashMap::new();
        for (partition, units) in writes {
            *needed.entry(partition.as_str()).or_default() += units;
        }
        let level = |bucket: &(f64, Instant)| {
            (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * self.rate).min(self.burst)
        };
        let fits = needed.iter().all(|(partition, units)| {
            let available = buckets.get(*partition).map_or(self.burst, level);
            available >= *units
        });
        if !fits {
            self.throttled.fetch_add(1, Ordering::SeqCst);
            return Some(match operation {
                "TransactWriteItems" => throttled_transaction(request),
                "BatchWriteItem" => unprocessed(request),
                _ => error_response(400, true, "DynamoDB_20120810", "ProvisionedThroughputExceededException"),
            });
        }
        for (partition, units) in needed {
            let available = buckets.get(partition).map_or(self.burst, level);
            buckets.insert(partition.to_owned(), (available - units, now));
        }
        None
    }
}
