//! Throttling as DynamoDB does it: every partition (of the table and of each index) has a bucket of write
//! units that refills at its rate and holds at most its burst; a write that finds a bucket of one of the
//! partitions it touches too empty is refused, whole, with the answer DynamoDB gives (a single write
//! `ProvisionedThroughputExceededException`, a transaction `TransactionCanceledException` with a
//! `ThrottlingError` reason, a batch write its items back unprocessed). Which partitions a write touches,
//! and how many units, comes from the heat recorder (`heat::Recorder::peek_writes`).
//!
//! The clock is the table's own traffic, not the wall: buckets refill by `rate` units for every write
//! request the table receives (refused ones included, so a lone retrier still sees its bucket refill).
//! A partition that takes more than `burst + rate × writes` units over a run is therefore throttled
//! whatever the machine's speed or the tasks' interleaving, and the same commit throttles on a laptop and
//! on a slow CI machine alike; a wall clock made a fast machine throttle and a slow one not.

use std::collections::HashMap;
use std::sync::Mutex;

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
    /// Write units each partition gets back per write request to the table.
    rate: f64,
    /// The most a partition saves up.
    burst: f64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Write requests seen: the clock.
    writes: u64,
    throttled: usize,
    /// Per partition: its level and the clock when it was last taken from.
    buckets: HashMap<String, (f64, u64)>,
    /// Per partition: every unit it took.
    taken: HashMap<String, f64>,
}

impl PartitionBuckets {
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            state: Mutex::default(),
        }
    }

    /// How many writes were refused so far.
    pub fn throttled(&self) -> usize {
        self.state.lock().unwrap().throttled
    }

    /// Write requests seen so far (refused ones included).
    pub fn writes(&self) -> u64 {
        self.state.lock().unwrap().writes
    }

    /// The partition that took the most units so far, and how many.
    pub fn hottest(&self) -> (String, f64) {
        let state = self.state.lock().unwrap();
        state
            .taken
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(partition, units)| (partition.clone(), *units))
            .unwrap_or_default()
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
        let mut state = self.state.lock().unwrap();
        state.writes += 1;
        let now = state.writes;
        let mut needed: HashMap<&str, f64> = HashMap::new();
        for (partition, units) in writes {
            *needed.entry(partition.as_str()).or_default() += units;
        }
        let level = |bucket: &(f64, u64)| (bucket.0 + (now - bucket.1) as f64 * self.rate).min(self.burst);
        let fits = needed.iter().all(|(partition, units)| {
            let available = state.buckets.get(*partition).map_or(self.burst, level);
            available >= *units
        });
        if !fits {
            state.throttled += 1;
            return Some(match operation {
                "TransactWriteItems" => throttled_transaction(request),
                "BatchWriteItem" => unprocessed(request),
                _ => error_response(400, true, "DynamoDB_20120810", "ProvisionedThroughputExceededException"),
            });
        }
        for (partition, units) in needed {
            let available = state.buckets.get(partition).map_or(self.burst, level);
            state.buckets.insert(partition.to_owned(), (available - units, now));
            *state.taken.entry(partition.to_owned()).or_default() += units;
        }
        None
    }
}
