//! The partition-heat recorder: every DynamoDB request the tests' clients make, as the partitions it touches.
//!
//! A request becomes [`Touch`]es: the table or index, the partition key's class (`classes.rs`), read or
//! write, consistent or not, transactional or not, the item bytes and the capacity units DynamoDB bills
//! for them. Index writes are derived from what the request writes and removes, against the indexes
//! `template.yaml` defines: an item enters, leaves or moves within an index (a moved key is a delete plus a
//! put), or changes in place in an index that projects it whole. What an item held before is known from
//! the recorder's own shadow of what earlier requests wrote. A request it cannot interpret (a key of no
//! known class, an index key set to a computed value, an index key removed from an item it never saw and
//! whose condition does not let it be new) is an error the recording test fails on: the model cannot
//! drift from the code.
//!
//! `scripts/scale_model.py` turns recorded sequences into per-partition load under the scenarios of
//! `docs/scale-scenarios.yaml` (`make scale` writes `docs/SCALE.md`).

mod classes;
mod expressions;
mod interpret;
mod sizes;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

pub use classes::class_of;
use interpret::Pass;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
}

/// One partition touched by one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Touch {
    /// Which request of the recording, counting from 0: touches of one transaction share it.
    pub request: usize,
    pub operation: String,
    /// `table`, or `index/<name>`.
    pub target: String,
    pub class: &'static str,
    /// The partition key value itself: what the fault harness's token buckets are kept by.
    #[serde(skip)]
    pub partition: String,
    pub access: Access,
    pub consistent: bool,
    pub transactional: bool,
    /// Item bytes: written (the larger of before and after), or read (the sum a query returned).
    pub bytes: u64,
    /// Capacity units billed: write units of 1 KB (twice in a transaction), read units of 4 KB (half when
    /// eventually consistent, twice in a transaction).
    pub units: f64,
}

/// The keys and indexes of the table, as `template.yaml` defines them.
#[derive(Debug, Clone)]
pub struct Schema {
    pub hash: String,
    pub range: Option<String>,
    pub indexes: Vec<Index>,
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub hash: String,
    pub range: Option<String>,
    /// `ALL` indexes hold the whole item: any change of an item in them writes them.
    pub projects_all: bool,
}

impl Schema {
    /// The collector table's schema from the template description (`integration_tests::template()`).
    pub fn from_template(template: &Value) -> Self {
        let table = &template["tables"]["CollectorTable"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        Schema {
            hash: text(&table["hash"]).expect("the table has a hash key"),
            range: text(&table["range"]),
            indexes: table["indexes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|index| Index {
                    name: text(&index["name"]).expect("an index has a name"),
                    hash: text(&index["hash"]).expect("an index has a hash key"),
                    range: text(&index["range"]),
                    projects_all: index["projection"] == "ALL",
                })
                .collect(),
        }
    }

    fn key_attributes(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.as_str()).chain(self.range.as_deref()).chain(
            self.indexes
                .iter()
                .flat_map(|i| std::iter::once(i.hash.as_str()).chain(i.range.as_deref())),
        )
    }
}

/// What the recorder knows of an item from the writes it saw: its size and its index key values.
#[derive(Debug, Clone, Default)]
struct Shadow {
    bytes: u64,
    keys: BTreeMap<String, String>,
}

type ItemKey = (String, String);

#[derive(Debug, Default)]
struct State {
    shadow: HashMap<ItemKey, Shadow>,
    touches: Vec<Touch>,
    errors: Vec<String>,
    requests: usize,
}

/// Records the touches of every DynamoDB request observed; see the module's documentation.
#[derive(Debug)]
pub struct Recorder {
    schema: Schema,
    state: Mutex<State>,
}

impl Recorder {
    pub fn new(schema: Schema) -> Self {
        Self {
            schema,
            state: Mutex::new(State::default()),
        }
    }

    /// One DynamoDB request (`operation` as in `GetItem`) with its answer: `succeeded` when DynamoDB applied it.
    pub fn observe(&self, operation: &str, request: &[u8], succeeded: bool, response: &[u8]) {
        let request: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
        let response: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
        let mut state = self.state.lock().unwrap();
        let number = state.requests;
        let mut pass = Pass {
            schema: &self.schema,
            state: &mut state,
            request: number,
            writes: Vec::new(),
        };
        match pass.interpret(operation, &request, &response) {
            Ok(touches) => {
                if succeeded {
                    let writes = std::mem::take(&mut pass.writes);
                    for (key, after) in writes {
                        match after {
                            Some(shadow) => state.shadow.insert(key, shadow),
                            None => state.shadow.remove(&key),
                        };
                    }
                }
                if !touches.is_empty() {
                    state.requests += 1;
                }
                state.touches.extend(touches);
            }
            Err(error) => state.errors.push(format!("{operation}: {error}")),
        }
    }

    /// The partitions a request would write, and the write units it would take from each (`target` and key
    /// value, `index/pending PENDING#3`), without recording it: what a throttling fault judges a request by
    /// before it is sent. A request it cannot interpret writes nothing as far as this says.
    pub fn peek_writes(&self, operation: &str, request: &[u8]) -> Vec<(String, f64)> {
        let request: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
        let mut state = self.state.lock().unwrap();
        let mut pass = Pass {
            schema: &self.schema,
            state: &mut state,
            request: 0,
            writes: Vec::new(),
        };
        let touches = pass.interpret(operation, &request, &Value::Null).unwrap_or_default();
        touches
            .into_iter()
            .filter(|t| t.access == Access::Write)
            .map(|t| (format!("{} {}", t.target, t.partition), t.units))
            .collect()
    }

    /// The touches since the last take, or what could not be interpreted.
    pub fn take(&self) -> Result<Vec<Touch>, Vec<String>> {
        let mut state = self.state.lock().unwrap();
        state.requests = 0;
        let touches = std::mem::take(&mut state.touches);
        let errors = std::mem::take(&mut state.errors);
        if errors.is_empty() {
            Ok(touches)
        } else {
            Err(errors)
        }
    }
}

/// Writes a recorded request sequence to `target/scale/sequences/<name>.json`, where `scripts/scale_model.py`
/// reads it: what `instances` runs of one flow (`description`) touched.
pub fn write_sequence(name: &str, description: &str, instances: usize, touches: &[Touch]) {
    assert!(!touches.is_empty(), "{name}: a sequence with no DynamoDB request");
    let dir = crate::target_dir().join("scale/sequences");
    std::fs::create_dir_all(&dir).expect("target/ is writable");
    let sequence = serde_json::json!({
        "name": name,
        "description": description,
        "instances": instances,
        "touches": touches,
    });
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string_pretty(&sequence).unwrap(),
    )
    .expect("the sequence is written");
}
