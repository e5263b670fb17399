//! Item sizes as DynamoDB bills them: attribute names plus values, in the wire format
//! (`{"S": "…"}`), as `scripts/item_sizes.py` measures a stored table.

use serde_json::{Map, Value};

/// A write unit covers 1 KB of item, a read unit 4 KB.
pub const WRITE_UNIT_BYTES: u64 = 1024;
pub const READ_UNIT_BYTES: u64 = 4096;
/// What DynamoDB adds to every index entry (and counts in its size).
pub const INDEX_ENTRY_OVERHEAD: u64 = 100;

pub fn item_size(item: &Map<String, Value>) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_size(value))
        .sum()
}

pub fn value_size(value: &Value) -> u64 {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, |s| s.len() as u64),
        "N" => inner.as_str().map_or(0, number_size),
        // Base64 on the wire: the bytes are three quarters of it.
        "B" => inner.as_str().map_or(0, |s| (s.len() as u64 * 3) / 4),
        "BOOL" | "NULL" => 1,
        "SS" | "BS" => strings(inner).map(|s| s.len() as u64).sum(),
        "NS" => strings(inner).map(number_size).sum(),
        "L" => {
            3 + inner
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| 1 + value_size(v))
                .sum::<u64>()
        }
        "M" => {
            3 + inner
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| 1 + k.len() as u64 + value_size(v))
                .sum::<u64>()
        }
        _ => 0,
    }
}

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// About one byte per two significant digits, plus one.
fn number_size(number: &str) -> u64 {
    let digits: String = number
        .trim_start_matches('-')
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let significant = digits.trim_matches('0');
    (significant.len().max(1) as u64).div_ceil(2) + 1
}

/// Capacity units for `bytes` in units of `unit_bytes`: at least one.
pub fn units(bytes: u64, unit_bytes: u64) -> u64 {
    bytes.div_ceil(unit_bytes).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_count_names_and_values() {
        let item = json!({"pk": {"S": "STORE#1"}, "n": {"N": "12345"}, "ok": {"BOOL": true}});
        assert_eq!(item_size(item.as_object().unwrap()), 2 + 7 + 1 + 4 + 2 + 1);
        assert_eq!(units(0, WRITE_UNIT_BYTES), 1);
        assert_eq!(units(1025, WRITE_UNIT_BYTES), 2);
    }
}
