//! DynamoDB: what ingest reads and writes. The identity lookups and the dedupe record in one batched read,
//! the event committed with its customer, claims, order, projection and activity in one transaction, and
//! events read back by id or by the id their client gave them.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};

use super::dynamo::{event_item, from_item, item_of, key, owned_by, pk_of, DynamoTable, Item};
use super::errors::{permanent, transaction_error};
use super::keys::{self};
use collector_core::domain::customer::{Customer, ProfileField};
use collector_core::domain::customer_input::CustomerInput;
use collector_core::domain::entity_state::EntityState;
use collector_core::domain::event::{DedupeRecord, StoredEvent};
use collector_core::domain::identity::{Identifier, IdentityLookup};
use collector_core::domain::ids::{CustomerId, EventId, StoreId};
use collector_core::domain::order::Order;
use collector_core::domain::subscription::EntityType;
use collector_core::ports::{Commit, CommitOutcome, CustomerWrite, EventReads, IngestStore, Prefetched, StoreError};

fn identity_claim(store: &StoreId, kind: Identifier, value: &str, owner: &CustomerId) -> Item {
    let mut item = key(keys::identity(store, kind, value));
    item.insert("customerId".to_owned(), AttributeValue::S(owner.to_string()));
    item
}

fn owner_of(item: &Item) -> Option<CustomerId> {
    match item.get("customerId") {
        Some(AttributeValue::S(id)) => CustomerId::parse(id).ok(),
        _ => None,
    }
}

/// The partition keys one event's prefetch reads.
struct PrefetchKeys {
    dedupe: Option<(String, &'static str)>,
    id: Option<(String, &'static str)>,
    email: Option<(String, &'static str)>,
    phone: Option<(String, &'static str)>,
}

impl PrefetchKeys {
    fn all(&self) -> impl Iterator<Item = &(String, &'static str)> {
        [&self.dedupe, &self.id, &self.email, &self.phone].into_iter().flatten()
    }
}

impl DynamoTable {
    /// A field-level update of `changed`: `SET` for values, `REMOVE` for cleared fields. Map fields are set by
    /// key (`location.#k`), so concurrent patches of different keys both land.
    fn customer_update(&self, customer: &Customer, changed: &[ProfileField]) -> Result<Update, StoreError> {
        const OP: &str = "customer update";
        let mut names = HashMap::from([
            ("#version".to_owned(), "version".to_owned()),
            ("#updatedAt".to_owned(), "updatedAt".to_owned()),
        ]);
        let mut values = HashMap::from([
            (":one".to_owned(), AttributeValue::N("1".to_owned())),
            (
                ":updatedAt".to_owned(),
                serde_dynamo::to_attribute_value(customer.updated_at).map_err(|e| permanent(OP, e))?,
            ),
        ]);
        let mut set = vec!["#updatedAt = :updatedAt".to_owned()];
        let mut remove = Vec::new();
        let mut condition = "attribute_exists(pk)".to_owned();
        for (i, field) in changed.iter().enumerate() {
            let (top, key) = field.path();
            names.insert(format!("#t{i}"), top.to_owned());
            let path = match key {
                Some(key) => {
                    names.insert(format!("#k{i}"), key.to_owned());
                    format!("#t{i}.#k{i}")
                }
                None => format!("#t{i}"),
            };
            if matches!(field, ProfileField::Email | ProfileField::PhoneNumber) {
                condition.push_str(&format!(" AND attribute_not_exists({path})"));
            }
            match customer.value_of(field) {
                Some(value) => {
                    values.insert(
                        format!(":v{i}"),
                        serde_dynamo::to_attribute_value(value).map_err(|e| permanent(OP, e))?,
                    );
                    set.push(format!("{path} = :v{i}"));
                }
                None => remove.push(path),
            }
        }
        let mut expression = format!("SET {} ADD #version :one", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::customer(&customer.store_id, &customer.customer_id))))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| permanent(OP, e))
    }
}

impl IngestStore for DynamoTable {
    async fn prefetch(
        &self,
        store: &StoreId,
        unique_id: Option<&str>,
        customer: &CustomerInput,
    ) -> Result<Prefetched, StoreError> {
        let mut one = self.prefetch_many(store, &[(unique_id, customer)]).await?;
        Ok(one.pop().unwrap_or_default())
    }

    async fn prefetch_many(
        &self,
        store: &StoreId,
        requests: &[(Option<&str>, &CustomerInput)],
    ) -> Result<Vec<Prefetched>, StoreError> {
        let wanted: Vec<PrefetchKeys> = requests
            .iter()
            .map(|(unique_id, customer)| PrefetchKeys {
                dedupe: unique_id.map(|u| keys::dedupe(store, u)),
                id: customer.id.as_ref().map(|id| keys::customer(store, id)),
                email: customer
                    .email_key()
                    .map(|e| keys::identity(store, Identifier::Email, &e)),
                phone: customer
                    .phone_number
                    .as_ref()
                    .map(|p| keys::identity(store, Identifier::PhoneNumber, p)),
            })
            .collect();
        let mut distinct: Vec<&(String, &'static str)> = wanted.iter().flat_map(PrefetchKeys::all).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let batch = distinct.into_iter().map(|at| key(at.clone())).collect();
        let items: HashMap<String, Item> = self
            .batch_get("prefetch", batch)
            .await?
            .into_iter()
            .filter_map(|item| Some((pk_of(&item)?.to_owned(), item)))
            .collect();
        let found = |at: &Option<(String, &str)>| at.as_ref().and_then(|(pk, _)| items.get(pk)).cloned();
        wanted
            .iter()
            .map(|keys| {
                Ok(Prefetched {
                    dedupe: found(&keys.dedupe)
                        .map(|item| from_item("dedupe item", item))
                        .transpose()?,
                    identity: IdentityLookup {
                        by_id: found(&keys.id)
                            .map(|item| from_item("customer item", item))
                            .transpose()?,
                        email_owner: found(&keys.email).as_ref().and_then(owner_of),
                        phone_owner: found(&keys.phone).as_ref().and_then(owner_of),
                    },
                })
            })
            .collect()
    }

    async fn customers(
        &self,
        store: &StoreId,
        ids: &[CustomerId],
    ) -> Result<HashMap<CustomerId, Customer>, StoreError> {
        self.customers_by_id(store, ids).await
    }

    async fn customer(&self, store: &StoreId, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        self.get("get customer", keys::customer(store, id))
            .await?
            .map(|item| from_item("customer item", item))
            .transpose()
    }

    async fn order(&self, store: &StoreId, external_order_id: &str) -> Result<Option<Order>, StoreError> {
        self.get("get order", keys::order(store, external_order_id))
            .await?
            .map(|item| from_item("order item", item))
            .transpose()
    }

    async fn entity_state(
        &self,
        store: &StoreId,
        entity_type: EntityType,
        entity_id: &str,
    ) -> Result<Option<EntityState>, StoreError> {
        self.read_entity_state(store, entity_type, entity_id).await
    }

    async fn commit(&self, commit: &Commit) -> Result<CommitOutcome, StoreError> {
        const OP: &str = "commit event";
        let put = |item: Item, condition: &str| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition)
        };
        let store = &commit.event.store_id;
        let owner = commit.event.customer_id.as_ref();
        let mut puts = Vec::with_capacity(3 + commit.claims.len());
        if let Some(record) = &commit.dedupe {
            let item = item_of("dedupe item", keys::dedupe(&record.store_id, &record.unique_id), record)?;
            let dedupe = put(
                owned_by(item, store, owner),
                "attribute_not_exists(pk) OR dedupeUntil <= :now",
            )
            .expression_attribute_values(":now", AttributeValue::N(commit.now.timestamp().to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            puts.push(dedupe);
        }
        puts.push(put(
            owned_by(event_item(&commit.event, self.pending_shards)?, store, owner),
            "attribute_not_exists(pk)",
        ));
        if let Some(CustomerWrite::Create(customer)) = &commit.customer {
            let at = keys::customer(&customer.store_id, &customer.customer_id);
            puts.push(put(item_of("customer item", at, customer)?, "attribute_not_exists(pk)"));
        }
        if let Some(customer_id) = owner {
            for (kind, value) in &commit.claims {
                let claim = identity_claim(store, *kind, value, customer_id);
                puts.push(put(owned_by(claim, store, owner), "attribute_not_exists(pk)"));
            }
        }
        if let Some(write) = &commit.order {
            let at = keys::order(&write.order.store_id, &write.order.external_order_id);
            let item = item_of("order item", at, &write.order)?;
            let item = owned_by(item, store, Some(&write.order.customer_id));
            puts.push(match write.expected_version {
                None => put(item, "attribute_not_exists(pk)"),
                Some(version) => put(item, "version = :version")
                    .expression_attribute_values(":version", AttributeValue::N(version.to_string())),
            });
        }
        let mut transact_items = puts
            .into_iter()
            .map(|p| p.build().map(|p| TransactWriteItem::builder().put(p).build()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| permanent(OP, e))?;
        if let Some(CustomerWrite::Update { customer, changed }) = &commit.customer {
            let update = self.customer_update(customer, changed)?;
            transact_items.push(TransactWriteItem::builder().update(update).build());
        }
        if let Some(write) = &commit.entity_state {
            transact_items.push(self.state_write_item(&commit.event.store_id, write)?);
        }
        if let Some(customer_id) = &commit.event.customer_id {
            for activity in &commit.activity {
                let update = self.activity_update(&commit.event.store_id, customer_id, activity, commit.now)?;
                transact_items.push(TransactWriteItem::builder().update(update).build());
            }
        }

        let error = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(transact_items))
            .send()
            .await
        {
            Ok(_) => return Ok(CommitOutcome::Committed),
            Err(error) => error,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() else {
            return Err(transaction_error(OP, error));
        };
        let reasons = cancelled.cancellation_reasons();
        let failed = |i: usize| reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
        if let Some(record) = commit.dedupe.as_ref().filter(|_| failed(0)) {
            let old = match reasons[0].item() {
                Some(item) => Some(item.clone()),
                None => {
                    self.get("get dedupe", keys::dedupe(&record.store_id, &record.unique_id))
                        .await?
                }
            };
            return match old
                .map(|item| from_item::<DedupeRecord>("dedupe item", item))
                .transpose()?
            {
                Some(old) if old.is_live(commit.now) => Ok(CommitOutcome::Duplicate(old)),
                _ => Ok(CommitOutcome::Contended),
            };
        }
        let contended = reasons
            .iter()
            .any(|r| matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict")));
        if contended {
            Ok(CommitOutcome::Contended)
        } else {
            Err(transaction_error(OP, error))
        }
    }
}

impl EventReads for DynamoTable {
    async fn stored_event(&self, store: &StoreId, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        self.event(store, id).await
    }

    async fn event_by_unique_id(&self, store: &StoreId, unique_id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let Some(item) = self.get("get dedupe", keys::dedupe(store, unique_id)).await? else {
            return Ok(None);
        };
        let record: DedupeRecord = from_item("dedupe item", item)?;
        self.event(store, &record.event_id).await
    }
}
