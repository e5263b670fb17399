//! The subscription use cases that need more than one store call: create, replace, rotate the webhook
//! secret. Secrets are sealed before anything is stored, and a webhook's signing secret is returned once.

use chrono::{DateTime, Duration, Utc};

use crate::domain::ids::{StoreId, SubscriptionId};
use crate::domain::subscription::{AwsAccess, Destination, Subscription};
use crate::domain::subscription_input::{AccessInput, DestinationInput, SubscriptionInput};
use crate::domain::webhook_signature::new_secret;
use crate::ports::{IdGenerator, SecretBox, SecretContext, StoreError, SubscriptionStore};

/// After a rotation, messages are signed with the previous secret too for this long.
pub const PREVIOUS_SECRET_VALIDITY_HOURS: i64 = 24;

/// The ports these use cases need, borrowed for one call.
pub struct SubscriptionPorts<'a, S, B> {
    pub store: &'a S,
    pub secrets: &'a B,
    pub ids: &'a dyn IdGenerator,
}

/// A subscription as saved, with the webhook signing secret when one was made by this call.
#[derive(Debug)]
pub struct Saved {
    pub subscription: Subscription,
    pub new_signing_secret: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("no such subscription")]
    NotFound,
    #[error("the body needs the id of the subscription to update")]
    MissingId,
    #[error("only WEBHOOK destinations have a signing secret")]
    NotAWebhook,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn create<S: SubscriptionStore + Sync, B: SecretBox + Sync>(
    ports: &SubscriptionPorts<'_, S, B>,
    store_id: &StoreId,
    input: SubscriptionInput,
    now: DateTime<Utc>,
) -> Result<Saved, SubscriptionError> {
    let subscription_id = SubscriptionId::from_bytes(ports.ids.object_id(now));
    let context = SecretContext {
        store_id: store_id.clone(),
        subscription_id: subscription_id.clone(),
    };
    let (destination, new_signing_secret) = seal_destination(ports, input.destination.clone(), None, &context).await?;
    let subscription = build(store_id, subscription_id, input, destination, now, now);
    ports.store.create_subscription(&subscription).await?;
    Ok(Saved {
        subscription,
        new_signing_secret,
    })
}

/// Replaces the subscription named by the body's `id`. Credentials not sent are kept when the destination
/// keeps its type; a webhook keeps its signing secret.
pub async fn replace<S: SubscriptionStore + Sync, B: SecretBox + Sync>(
    ports: &SubscriptionPorts<'_, S, B>,
    store_id: &StoreId,
    input: SubscriptionInput,
    now: DateTime<Utc>,
) -> Result<Saved, SubscriptionError> {
    let id = input.id.clone().ok_or(SubscriptionError::MissingId)?;
    let existing = ports
        .store
        .subscription(store_id, &id)
        .await?
        .ok_or(SubscriptionError::NotFound)?;
    let context = SecretContext {
        store_id: store_id.clone(),
        subscription_id: id.clone(),
    };
    let (destination, new_signing_secret) =
        seal_destination(ports, input.destination.clone(), Some(&existing.destination), &context).await?;
    let mut subscription = build(store_id, id, input, destination, existing.created_at, now);
    if !subscription.active {
        // Deactivated by this update: keep the reason the system gave, or say who did it.
        subscription.deactivated_reason = existing
            .deactivated_reason
            .or_else(|| Some("deactivated by an update".to_owned()));
        subscription.deactivated_at = existing.deactivated_at.or(Some(now));
    }
    if !ports.store.replace_subscription(&subscription).await? {
        return Err(SubscriptionError::NotFound);
    }
    Ok(Saved {
        subscription,
        new_signing_secret,
    })
}

/// A new signing secret for a webhook subscription. The previous one keeps signing, alongside, for
/// [`PREVIOUS_SECRET_VALIDITY_HOURS`], so receivers can switch without dropping messages.
pub async fn rotate_secret<S: SubscriptionStore + Sync, B: SecretBox + Sync>(
    ports: &SubscriptionPorts<'_, S, B>,
    store_id: &StoreId,
    id: &SubscriptionId,
    now: DateTime<Utc>,
) -> Result<Saved, SubscriptionError> {
    let mut subscription = ports
        .store
        .subscription(store_id, id)
        .await?
        .ok_or(SubscriptionError::NotFound)?;
    let Destination::Webhook { url, sealed_secret, .. } = &subscription.destination else {
        return Err(SubscriptionError::NotAWebhook);
    };
    let context = SecretContext {
        store_id: store_id.clone(),
        subscription_id: id.clone(),
    };
    let secret = new_secret(ports.ids.secret());
    subscription.destination = Destination::Webhook {
        url: url.clone(),
        sealed_secret: ports.secrets.seal(&secret, &context).await?,
        previous_sealed_secret: Some(sealed_secret.clone()),
        previous_secret_expires_at: Some(now + Duration::hours(PREVIOUS_SECRET_VALIDITY_HOURS)),
    };
    subscription.updated_at = now;
    if !ports.store.replace_subscription(&subscription).await? {
        return Err(SubscriptionError::NotFound);
    }
    Ok(Saved {
        subscription,
        new_signing_secret: Some(secret),
    })
}

fn build(
    store_id: &StoreId,
    subscription_id: SubscriptionId,
    input: SubscriptionInput,
    destination: Destination,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Subscription {
    Subscription {
        store_id: store_id.clone(),
        subscription_id,
        active: input.active,
        entity_type: input.entity_type,
        subscribe_create: input.subscribe_create,
        subscribe_change: input.subscribe_change,
        subscribe_delete: input.subscribe_delete,
        event_names: input.event_names,
        description: input.description,
        destination,
        created_at,
        updated_at: now,
        deactivated_reason: None,
        deactivated_at: None,
    }
}

/// The stored form of a destination: credentials sealed, a webhook secret made (and returned) when new.
async fn seal_destination<S, B: SecretBox + Sync>(
    ports: &SubscriptionPorts<'_, S, B>,
    input: DestinationInput,
    existing: Option<&Destination>,
    context: &SecretContext,
) -> Result<(Destination, Option<String>), StoreError> {
    Ok(match input {
        DestinationInput::Sqs {
            queue_url,
            region,
            access,
        } => {
            let kept = match existing {
                Some(Destination::Sqs { access, .. }) => Some(access),
                _ => None,
            };
            let access = seal_access(ports.secrets, access, kept, context).await?;
            (
                Destination::Sqs {
                    queue_url,
                    region,
                    access,
                },
                None,
            )
        }
        DestinationInput::Sns {
            topic_arn,
            region,
            access,
        } => {
            let kept = match existing {
                Some(Destination::Sns { access, .. }) => Some(access),
                _ => None,
            };
            let access = seal_access(ports.secrets, access, kept, context).await?;
            (
                Destination::Sns {
                    topic_arn,
                    region,
                    access,
                },
                None,
            )
        }
        DestinationInput::Webhook { url } => match existing {
            Some(Destination::Webhook {
                sealed_secret,
                previous_sealed_secret,
                previous_secret_expires_at,
                ..
            }) => (
                Destination::Webhook {
                    url,
                    sealed_secret: sealed_secret.clone(),
                    previous_sealed_secret: previous_sealed_secret.clone(),
                    previous_secret_expires_at: *previous_secret_expires_at,
                },
                None,
            ),
            _ => {
                let secret = new_secret(ports.ids.secret());
                let sealed_secret = ports.secrets.seal(&secret, context).await?;
                (
                    Destination::Webhook {
                        url,
                        sealed_secret,
                        previous_sealed_secret: None,
                        previous_secret_expires_at: None,
                    },
                    Some(secret),
                )
            }
        },
    })
}

async fn seal_access<B: SecretBox + Sync>(
    secrets: &B,
    input: AccessInput,
    kept: Option<&AwsAccess>,
    context: &SecretContext,
) -> Result<AwsAccess, StoreError> {
    Ok(match input {
        AccessInput::NotSent => kept.cloned().unwrap_or_default(),
        AccessInput::AssumeRole { role_arn, external_id } => AwsAccess::AssumeRole { role_arn, external_id },
        AccessInput::AccessKey {
            access_key,
            access_secret,
        } => {
            let plaintext = serde_json::json!({"accessKey": access_key, "accessSecret": access_secret}).to_string();
            AwsAccess::AccessKey {
                access_key_hint: access_key[access_key.len().saturating_sub(4)..].to_owned(),
                sealed: secrets.seal(&plaintext, context).await?,
            }
        }
    })
}
