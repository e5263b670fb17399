//! A publisher that records what it was asked to send and answers as a test scripts it.

use std::sync::Mutex;

use crate::domain::ids::SubscriptionId;
use crate::ports::{Delivery, Publisher, SendOutcome};

/// Records every delivery (subscription, message id, body); answers `Delivered` unless an outcome was set
/// for the subscription.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    sent: Mutex<Vec<(SubscriptionId, String, String)>>,
    outcomes: Mutex<Vec<(SubscriptionId, SendOutcome)>>,
}

impl RecordingPublisher {
    /// From now on, deliveries to `subscription` get `outcome`.
    pub fn answer(&self, subscription: &SubscriptionId, outcome: SendOutcome) {
        let mut outcomes = self.outcomes.lock().expect("the outcomes lock");
        outcomes.retain(|(id, _)| id != subscription);
        outcomes.push((subscription.clone(), outcome));
    }

    /// What was sent so far: subscription, envelope id, body.
    pub fn sent(&self) -> Vec<(SubscriptionId, String, String)> {
        self.sent.lock().expect("the sent lock").clone()
    }
}

impl Publisher for RecordingPublisher {
    async fn publish(&self, deliveries: &[Delivery<'_>]) -> Vec<SendOutcome> {
        let outcomes = self.outcomes.lock().expect("the outcomes lock").clone();
        let mut sent = self.sent.lock().expect("the sent lock");
        deliveries
            .iter()
            .map(|d| {
                let id = &d.subscription.subscription_id;
                sent.push((id.clone(), d.message_id.to_owned(), d.body.to_owned()));
                outcomes
                    .iter()
                    .find(|(s, _)| s == id)
                    .map(|(_, outcome)| outcome.clone())
                    .unwrap_or(SendOutcome::Delivered)
            })
            .collect()
    }
}
