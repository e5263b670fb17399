//! Running a notification job: read the projections the notification needs, compute the audience, drop
//! what the frequency cap holds back and the customers who withdrew consent, and send one templated email
//! per customer through the mailer.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::job_runs::{JobRunner, RunOutcome};
use crate::domain::audience::{audience, template_data, Activity};
use crate::domain::consent::email_consent;
use crate::domain::email_identity::Sender;
use crate::domain::entity_state::EntityState;
use crate::domain::ids::{CustomerId, StoreId};
use crate::domain::job::{Job, Notification};
use crate::domain::subscription::EntityType;
use crate::ports::{AudienceStore, Clock, Email, Mailer, StoreError, StoreSecretSeal, MAX_PERSONALIZATIONS};

/// Settings of notification runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationConfig {
    /// A customer hears about the same product for the same notification at most once in this long.
    pub frequency_cap: Duration,
    /// A cart is abandoned when no order followed it for this long.
    pub cart_window: Duration,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        Self {
            frequency_cap: Duration::days(7),
            cart_window: Duration::hours(1),
        }
    }
}

/// Runs notification jobs: the [`JobRunner`] of the scheduler.
pub struct NotificationRunner<S, M, K> {
    pub store: S,
    pub mailer: M,
    /// Opens the store's SendGrid key.
    pub seal: K,
    pub clock: Box<dyn Clock>,
    pub config: NotificationConfig,
}

/// What a run records when its store has no email identity to send as.
pub const NO_EMAIL_IDENTITY: &str =
    "the store has no email identity: nothing was sent (set one with `storeadmin set-email-identity`)";

impl<S: AudienceStore + Sync, M: Mailer + Sync, K: StoreSecretSeal + Sync> JobRunner for NotificationRunner<S, M, K> {
    async fn run(&self, job: &Job, _slot: DateTime<Utc>) -> RunOutcome {
        match self.run_job(job).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(job_id = %job.id, %error, "job run failed");
                RunOutcome {
                    errors: vec![format!("{}: {}", error.operation, error.kind_label())],
                    ..RunOutcome::default()
                }
            }
        }
    }
}

/// Projections keyed by the product they are about.
fn by_product(states: Vec<EntityState>) -> HashMap<String, EntityState> {
    states
        .into_iter()
        .map(|s| (s.summary.product_key().unwrap_or(&s.entity_id).to_owned(), s))
        .collect()
}

impl<S: AudienceStore + Sync, M: Mailer + Sync, K: StoreSecretSeal + Sync> NotificationRunner<S, M, K> {
    /// The sender of `job`'s store with its key opened (and the job's unsubscribe group, if it names one),
    /// `None` when the store has no email identity.
    async fn sender(&self, job: &Job) -> Result<Option<Sender>, StoreError> {
        let store = &job.store_id;
        let Some(identity) = self.store.email_identity(store).await? else {
            return Ok(None);
        };
        let key = self.seal.open_for_store(store, &identity.sealed_api_key).await?;
        Ok(Some(Sender::of(&identity, key, job.unsubscribe_group_id)))
    }

    async fn activity(
        &self,
        store: &StoreId,
        notification: Notification,
        now: DateTime<Utc>,
    ) -> Result<Activity, StoreError> {
        let mut activity = Activity::default();
        let candidates = match notification {
            Notification::BackInStock => self.store.entities(store, EntityType::InventoryLevel).await?,
            Notification::PriceDrop => self.store.entities(store, EntityType::Price).await?,
            Notification::WishlistReminder | Notification::AbandonedCart => Vec::new(),
        };
        if notification != Notification::AbandonedCart {
            activity.wishlists = self.store.entities(store, EntityType::Wishlist).await?;
        }
        for state in &candidates {
            let product = state.summary.product_key().unwrap_or(&state.entity_id).to_owned();
            let viewers = self.store.viewers(store, &product).await?;
            activity.viewers.insert(product, viewers);
        }
        activity.products = candidates;
        if notification == Notification::AbandonedCart {
            activity.open_carts = self.store.carts_before(store, now - self.config.cart_window).await?;
        }
        Ok(activity)
    }

    async fn run_job(&self, job: &Job) -> Result<RunOutcome, StoreError> {
        let now = self.clock.now();
        let store = &job.store_id;
        let activity = self.activity(store, job.notification, now).await?;
        let picks = audience(job.notification, &activity, job.number_of_items_in_email);
        let pairs: Vec<(CustomerId, String)> = picks
            .iter()
            .flat_map(|(c, products)| products.iter().map(move |p| (c.clone(), p.clone())))
            .collect();
        let capped = self.store.capped(store, job.notification, &pairs, now).await?;
        let mut outcome = RunOutcome {
            recipients_evaluated: picks.len() as u64,
            ..RunOutcome::default()
        };
        let picks: Vec<(CustomerId, Vec<String>)> = picks
            .into_iter()
            .map(|(c, products)| {
                let open = products
                    .into_iter()
                    .filter(|p| !capped.contains(&(c.clone(), p.clone())))
                    .collect();
                (c, open)
            })
            .filter(|(_, products): &(CustomerId, Vec<String>)| !products.is_empty())
            .collect();
        outcome.skipped.capped = outcome.recipients_evaluated - picks.len() as u64;
        if picks.is_empty() {
            return Ok(outcome);
        }
        let ids: Vec<CustomerId> = picks.iter().map(|(c, _)| c.clone()).collect();
        let customers = self.store.profiles(store, &ids).await?;
        let mut catalogue = by_product(self.store.entities(store, EntityType::Product).await?);
        catalogue.extend(by_product(
            self.store.entities(store, EntityType::VariantProduct).await?,
        ));
        let prices = by_product(self.store.entities(store, EntityType::Price).await?);
        let mut sent_to: Vec<(CustomerId, Vec<String>)> = Vec::new();
        let mut emails = Vec::new();
        for (customer_id, products) in picks {
            // A customer erased since the activity was read has no profile, so no address either.
            let Some(customer) = customers.get(&customer_id) else {
                outcome.skipped.no_email += 1;
                continue;
            };
            if !email_consent(customer).allows_mail() {
                outcome.skipped.no_consent += 1;
                continue;
            }
            let Some(email) = customer.email.clone() else {
                outcome.skipped.no_email += 1;
                continue;
            };
            let data = template_data(job, &products, &catalogue, &prices, customer.first_name.as_deref());
            emails.push(Email { to: email, data });
            sent_to.push((customer_id, products));
        }
        if emails.is_empty() {
            return Ok(outcome);
        }
        let Some(sender) = self.sender(job).await? else {
            outcome.errors.push(NO_EMAIL_IDENTITY.to_owned());
            return Ok(outcome);
        };
        let results = self.mailer.send(&sender, &job.template_id, &emails).await;
        let batch = MAX_PERSONALIZATIONS;
        for (i, result) in results.into_iter().enumerate() {
            let recipients = &sent_to[i * batch..((i + 1) * batch).min(sent_to.len())];
            match result {
                Ok(accepted) => {
                    outcome.messages_sent += accepted as u64;
                    let pairs: Vec<(CustomerId, String)> = recipients
                        .iter()
                        .flat_map(|(c, products)| products.iter().map(move |p| (c.clone(), p.clone())))
                        .collect();
                    self.store
                        .cap(store, job.notification, &pairs, now + self.config.frequency_cap)
                        .await?;
                }
                // Not capped: the next run tries these recipients again.
                Err(error) => outcome.errors.push(error.to_string()),
            }
        }
        Ok(outcome)
    }
}
