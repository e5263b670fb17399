//! One request's interpretation: the touches it makes and what it leaves in the shadow.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::classes::class_of;
use super::expressions::{partition_value, update_actions, Action, Operand};
use super::sizes::{item_size, units, value_size, INDEX_ENTRY_OVERHEAD, READ_UNIT_BYTES, WRITE_UNIT_BYTES};
use super::{Access, ItemKey, Schema, Shadow, State, Touch};

/// One request's interpretation: its touches, and the items it would write if DynamoDB applies it.
pub(super) struct Pass<'a> {
    pub(super) schema: &'a Schema,
    pub(super) state: &'a mut State,
    pub(super) request: usize,
    pub(super) writes: Vec<(ItemKey, Option<Shadow>)>,
}

/// A write of one item: what it becomes (`None`: deleted), and whether it is only a condition.
enum Change<'a> {
    Put(&'a Map<String, Value>),
    Update {
        expression: &'a str,
        names: HashMap<String, String>,
        values: &'a Map<String, Value>,
        /// The condition lets the item not exist yet: one the recorder never saw is new, and removing an
        /// index key from it removes nothing.
        may_create: bool,
    },
    Delete,
    Check,
}

impl Pass<'_> {
    pub(super) fn interpret(
        &mut self,
        operation: &str,
        request: &Value,
        response: &Value,
    ) -> Result<Vec<Touch>, String> {
        let mut touches = Vec::new();
        match operation {
            "GetItem" => {
                let bytes = response["Item"].as_object().map_or(0, item_size);
                touches.push(self.read_item(operation, &request["Key"], consistent(request), false, bytes)?);
            }
            "BatchGetItem" => {
                for (table, spec) in object(&request["RequestItems"]) {
                    let returned = response["Responses"][table.as_str()]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    for key in spec["Keys"].as_array().into_iter().flatten() {
                        let bytes = returned
                            .iter()
                            .filter_map(Value::as_object)
                            .find(|item| self.same_key(item, key))
                            .map_or(0, item_size);
                        touches.push(self.read_item(operation, key, consistent(spec), false, bytes)?);
                    }
                }
            }
            "TransactGetItems" => {
                let returned = response["Responses"].as_array().cloned().unwrap_or_default();
                for (i, entry) in request["TransactItems"].as_array().into_iter().flatten().enumerate() {
                    let bytes = returned.get(i).and_then(|r| r["Item"].as_object()).map_or(0, item_size);
                    touches.push(self.read_item(operation, &entry["Get"]["Key"], true, true, bytes)?);
                }
            }
            "Query" => touches.push(self.query(request, response)?),
            "Scan" => return Err("a Scan reads every partition; no production path may make one".into()),
            "PutItem" | "UpdateItem" | "DeleteItem" => {
                touches.extend(self.write(operation, request, change_of(operation, request)?, false)?);
            }
            "TransactWriteItems" => {
                for entry in request["TransactItems"].as_array().into_iter().flatten() {
                    let (kind, item) = object(entry).iter().next().ok_or("an empty transaction item")?;
                    let kind = match kind.as_str() {
                        "Put" => "PutItem",
                        "Update" => "UpdateItem",
                        "Delete" => "DeleteItem",
                        "ConditionCheck" => "ConditionCheck",
                        other => return Err(format!("unknown transaction item {other}")),
                    };
                    touches.extend(self.write(operation, item, change_of(kind, item)?, true)?);
                }
            }
            "BatchWriteItem" => {
                for writes in object(&request["RequestItems"]).values() {
                    for entry in writes.as_array().into_iter().flatten() {
                        let change = if let Some(item) = entry["PutRequest"]["Item"].as_object() {
                            Change::Put(item)
                        } else {
                            Change::Delete
                        };
                        let key = if entry["PutRequest"].is_object() {
                            &entry["PutRequest"]["Item"]
                        } else {
                            &entry["DeleteRequest"]["Key"]
                        };
                        let request = serde_json::json!({ "Key": key });
                        touches.extend(self.write(operation, &request, change, false)?);
                    }
                }
            }
            // The control plane (tables, TTL, descriptions) touches no partition.
            _ => {}
        }
        Ok(touches)
    }

    fn key_of(&self, key: &Value) -> Result<ItemKey, String> {
        let part = |name: &str| key[name]["S"].as_str().map(str::to_owned);
        let pk = part(&self.schema.hash).ok_or_else(|| format!("no string {} in {key}", self.schema.hash))?;
        let sk = self.schema.range.as_deref().and_then(part).unwrap_or_default();
        Ok((pk, sk))
    }

    fn same_key(&self, item: &Map<String, Value>, key: &Value) -> bool {
        let hash = &self.schema.hash;
        item.get(hash) == key.get(hash)
            && self
                .schema
                .range
                .as_ref()
                .is_none_or(|range| item.get(range) == key.get(range))
    }

    fn touch(
        &self,
        operation: &str,
        target: String,
        key: &str,
        access: Access,
        flags: (bool, bool),
        bytes: u64,
    ) -> Result<Touch, String> {
        let class = class_of(key).ok_or_else(|| format!("the key '{key}' of {target} is of no known class"))?;
        let (consistent, transactional) = flags;
        let units = match access {
            Access::Write => units(bytes, WRITE_UNIT_BYTES) as f64,
            Access::Read => units(bytes, READ_UNIT_BYTES) as f64 * if consistent { 1.0 } else { 0.5 },
        } * if transactional { 2.0 } else { 1.0 };
        Ok(Touch {
            request: self.request,
            operation: operation.to_owned(),
            target,
            class,
            partition: key.to_owned(),
            access,
            consistent,
            transactional,
            bytes,
            units,
        })
    }

    fn read_item(
        &self,
        operation: &str,
        key: &Value,
        consistent: bool,
        transactional: bool,
        bytes: u64,
    ) -> Result<Touch, String> {
        let (pk, _) = self.key_of(key)?;
        self.touch(
            operation,
            "table".into(),
            &pk,
            Access::Read,
            (consistent, transactional),
            bytes,
        )
    }

    fn query(&self, request: &Value, response: &Value) -> Result<Touch, String> {
        let (target, hash) = match request["IndexName"].as_str() {
            Some(name) => {
                let index = self
                    .schema
                    .indexes
                    .iter()
                    .find(|i| i.name == name)
                    .ok_or_else(|| format!("no index {name}"))?;
                (format!("index/{name}"), index.hash.clone())
            }
            None => ("table".to_owned(), self.schema.hash.clone()),
        };
        let condition = request["KeyConditionExpression"]
            .as_str()
            .ok_or("a Query without KeyConditionExpression")?;
        let partition = partition_value(
            condition,
            &names(request),
            object(&request["ExpressionAttributeValues"]),
            &hash,
        )?;
        let items: Vec<u64> = response["Items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(item_size)
            .collect();
        // A filter drops items after they were read, and billed: count the dropped ones at the returned mean.
        let returned: u64 = items.iter().sum();
        let scanned = response["ScannedCount"].as_u64().unwrap_or(items.len() as u64);
        let mean = if items.is_empty() {
            0
        } else {
            returned / items.len() as u64
        };
        let bytes = returned + scanned.saturating_sub(items.len() as u64) * mean;
        self.touch(
            "Query",
            target,
            &partition,
            Access::Read,
            (consistent(request), false),
            bytes,
        )
    }

    fn write(
        &mut self,
        operation: &str,
        request: &Value,
        change: Change,
        transactional: bool,
    ) -> Result<Vec<Touch>, String> {
        let key_value = match &change {
            Change::Put(item) => Value::Object((*item).clone()),
            _ => request["Key"].clone(),
        };
        let key = self.key_of(&key_value)?;
        let before = self.state.shadow.get(&key).cloned();
        let after = self.apply(&key, &key_value, before.as_ref(), &change)?;
        let billed = before
            .as_ref()
            .map_or(0, |b| b.bytes)
            .max(after.as_ref().map_or(0, |a| a.bytes));
        let mut touches = vec![self.touch(
            operation,
            "table".into(),
            &key.0,
            Access::Write,
            (true, transactional),
            billed,
        )?];
        if !matches!(change, Change::Check) {
            touches.extend(self.index_writes(operation, before.as_ref(), after.as_ref(), billed)?);
            self.writes.push((key, after));
        }
        Ok(touches)
    }

    /// What the item is after the change, as far as the recorder tracks it.
    fn apply(
        &self,
        key: &ItemKey,
        key_value: &Value,
        before: Option<&Shadow>,
        change: &Change,
    ) -> Result<Option<Shadow>, String> {
        match change {
            Change::Put(item) => Ok(Some(Shadow {
                bytes: item_size(item),
                keys: self.index_keys(item),
            })),
            Change::Delete => Ok(None),
            Change::Check => Ok(before.cloned()),
            Change::Update {
                expression,
                names,
                values,
                may_create,
            } => {
                let mut shadow = before.cloned().unwrap_or_else(|| {
                    let keys = object(key_value);
                    Shadow {
                        bytes: item_size(keys),
                        keys: self.index_keys(keys),
                    }
                });
                let mut set_bytes = 0;
                for (attribute, action) in update_actions(expression, names)? {
                    let indexed = self.schema.key_attributes().any(|a| a == attribute);
                    match action {
                        Action::Set(operand) => {
                            let value = match operand {
                                Operand::Value(placeholder) => values.get(&placeholder).cloned(),
                                Operand::IfNotExists(placeholder) => match shadow.keys.get(&attribute) {
                                    Some(_) if indexed => None,
                                    _ => values.get(&placeholder).cloned(),
                                },
                                Operand::Computed if indexed => {
                                    return Err(format!("{} sets the index key {attribute} to a computed value", key.0))
                                }
                                Operand::Computed => None,
                            };
                            if let Some(value) = value {
                                set_bytes += attribute.len() as u64 + value_size(&value);
                                if indexed {
                                    shadow.keys.insert(attribute, scalar(&value)?);
                                }
                            }
                        }
                        Action::Remove if indexed && before.is_none() && !may_create => {
                            return Err(format!(
                                "{} removes the index key {attribute} from an item never seen written",
                                key.0
                            ))
                        }
                        Action::Remove => {
                            shadow.keys.remove(&attribute);
                        }
                        Action::Change => {}
                    }
                }
                shadow.bytes = shadow.bytes.max(item_size(object(key_value)) + set_bytes);
                Ok(Some(shadow))
            }
        }
    }

    fn index_keys(&self, item: &Map<String, Value>) -> BTreeMap<String, String> {
        self.schema
            .key_attributes()
            .filter_map(|name| Some((name.to_owned(), scalar(item.get(name)?).ok()?)))
            .collect()
    }

    /// The index entries a change of an item from `before` to `after` writes or deletes.
    fn index_writes(
        &self,
        operation: &str,
        before: Option<&Shadow>,
        after: Option<&Shadow>,
        bytes: u64,
    ) -> Result<Vec<Touch>, String> {
        let mut touches = Vec::new();
        for index in &self.schema.indexes {
            let entry = |shadow: Option<&Shadow>| {
                let keys = &shadow?.keys;
                let hash = keys.get(&index.hash)?.clone();
                let range = match &index.range {
                    Some(range) => Some(keys.get(range)?.clone()),
                    None => None,
                };
                Some((hash, range))
            };
            let target = format!("index/{}", index.name);
            let entry_bytes = if index.projects_all { bytes } else { 0 } + INDEX_ENTRY_OVERHEAD;
            let write = |partition: &str| {
                self.touch(
                    operation,
                    target.clone(),
                    partition,
                    Access::Write,
                    (true, false),
                    entry_bytes,
                )
            };
            match (entry(before), entry(after)) {
                (None, None) => {}
                (Some((old, _)), None) => touches.push(write(&old)?),
                (None, Some((new, _))) => touches.push(write(&new)?),
                (Some(old), Some(new)) if old != new => {
                    touches.push(write(&old.0)?);
                    touches.push(write(&new.0)?);
                }
                (Some(_), Some((same, _))) if index.projects_all => touches.push(write(&same)?),
                (Some(_), Some(_)) => {}
            }
        }
        Ok(touches)
    }
}

fn change_of<'a>(kind: &str, request: &'a Value) -> Result<Change<'a>, String> {
    Ok(match kind {
        "PutItem" => Change::Put(request["Item"].as_object().ok_or("a Put without an Item")?),
        "DeleteItem" => Change::Delete,
        "ConditionCheck" => Change::Check,
        _ => Change::Update {
            expression: request["UpdateExpression"]
                .as_str()
                .ok_or("an Update without an UpdateExpression")?,
            names: names(request),
            values: object(&request["ExpressionAttributeValues"]),
            may_create: request["ConditionExpression"]
                .as_str()
                .is_some_and(|c| c.contains("attribute_not_exists(pk)")),
        },
    })
}

fn consistent(request: &Value) -> bool {
    request["ConsistentRead"].as_bool().unwrap_or(false)
}

fn names(request: &Value) -> HashMap<String, String> {
    object(&request["ExpressionAttributeNames"])
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

fn object(value: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    value.as_object().unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// A key attribute's value as text (index keys are strings or numbers).
fn scalar(value: &Value) -> Result<String, String> {
    value["S"]
        .as_str()
        .or_else(|| value["N"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("an index key that is not a string or number: {value}"))
}
