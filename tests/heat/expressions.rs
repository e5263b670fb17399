//! Just enough of DynamoDB's expression language to know which attributes an update sets or removes (the
//! index keys among them decide the index writes) and which partition a query reads. Anything else is
//! refused with what could not be read, so the recorder never guesses.

use std::collections::HashMap;

use serde_json::Value;

/// What an update does to one top-level attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Set(Operand),
    Remove,
    /// `ADD` and `DELETE`: a number or a set changed in place.
    Change,
}

/// The value a `SET` gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `:v`
    Value(String),
    /// `if_not_exists(path, :v)`: the attribute's own value if it has one, else `:v`.
    IfNotExists(String),
    /// Arithmetic, `list_append`, another attribute: a value the recorder cannot know.
    Computed,
}

/// The (top-level attribute, action) pairs of an `UpdateExpression`, names resolved.
pub fn update_actions(expression: &str, names: &HashMap<String, String>) -> Result<Vec<(String, Action)>, String> {
    let mut actions = Vec::new();
    for (keyword, body) in clauses(expression)? {
        for item in split_top_level(body, ',') {
            let item = item.trim();
            match keyword.as_str() {
                "SET" => {
                    let (path, value) = item
                        .split_once('=')
                        .ok_or_else(|| format!("SET item without '=': {item}"))?;
                    actions.push((attribute(path, names)?, Action::Set(operand(value.trim())?)));
                }
                "REMOVE" => actions.push((attribute(item, names)?, Action::Remove)),
                _ => {
                    let path = item.split_whitespace().next().unwrap_or_default();
                    actions.push((attribute(path, names)?, Action::Change));
                }
            }
        }
    }
    Ok(actions)
}

/// The value the key condition gives the attribute `hash` (the partition key of the table or index read).
pub fn partition_value(
    condition: &str,
    names: &HashMap<String, String>,
    values: &serde_json::Map<String, Value>,
    hash: &str,
) -> Result<String, String> {
    for clause in split_keyword(condition, "AND") {
        let Some((left, right)) = clause.split_once('=') else {
            continue;
        };
        if attribute(left, names)? == hash {
            let placeholder = right.trim();
            return values
                .get(placeholder)
                .and_then(|v| v["S"].as_str())
                .map(str::to_owned)
                .ok_or_else(|| format!("key condition value {placeholder} is not a string value"));
        }
    }
    Err(format!("key condition '{condition}' does not fix {hash}"))
}

/// The top-level attribute a document path starts with, `#name` resolved.
fn attribute(path: &str, names: &HashMap<String, String>) -> Result<String, String> {
    let top = path.trim().split(['.', '[']).next().unwrap_or_default().trim();
    if let Some(name) = top.strip_prefix('#') {
        return names
            .get(&format!("#{name}"))
            .cloned()
            .ok_or_else(|| format!("no ExpressionAttributeNames entry for #{name}"));
    }
    if top.is_empty() || !top.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(format!("cannot read the attribute path '{path}'"));
    }
    Ok(top.to_owned())
}

fn operand(value: &str) -> Result<Operand, String> {
    if value.starts_with(':') && value[1..].chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Ok(Operand::Value(value.to_owned()));
    }
    if let Some(arguments) = value.strip_prefix("if_not_exists(").and_then(|v| v.strip_suffix(')')) {
        let parts = split_top_level(arguments, ',');
        if let [_, fallback] = parts.as_slice() {
            if let Operand::Value(placeholder) = operand(fallback.trim())? {
                return Ok(Operand::IfNotExists(placeholder));
            }
        }
        return Err(format!("cannot read '{value}'"));
    }
    Ok(Operand::Computed)
}

/// `SET a = :a REMOVE b` as `[("SET", "a = :a"), ("REMOVE", "b")]`.
fn clauses(expression: &str) -> Result<Vec<(String, &str)>, String> {
    let mut starts = Vec::new();
    let mut depth = 0i32;
    let bytes = expression.as_bytes();
    for (i, c) in expression.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 && (i == 0 || bytes[i - 1].is_ascii_whitespace()) => {
                let word: String = expression[i..].chars().take_while(char::is_ascii_alphabetic).collect();
                let upper = word.to_ascii_uppercase();
                let ends = expression[i + word.len()..].starts_with(char::is_whitespace);
                if ends && ["SET", "REMOVE", "ADD", "DELETE"].contains(&upper.as_str()) {
                    starts.push((i, upper));
                }
            }
            _ => {}
        }
    }
    if starts.first().map(|(i, _)| expression[..*i].trim().is_empty()) != Some(true) {
        return Err(format!("cannot read the update expression '{expression}'"));
    }
    Ok(starts
        .iter()
        .enumerate()
        .map(|(n, (start, keyword))| {
            let end = starts.get(n + 1).map_or(expression.len(), |(next, _)| *next);
            (keyword.clone(), &expression[start + keyword.len()..end])
        })
        .collect())
}

fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if c == separator && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn split_keyword<'a>(text: &'a str, keyword: &str) -> Vec<&'a str> {
    let upper = text.to_ascii_uppercase();
    let needle = format!(" {keyword} ");
    let mut parts = Vec::new();
    let mut start = 0;
    while let Some(found) = upper[start..].find(&needle) {
        parts.push(&text[start..start + found]);
        start += found + needle.len();
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> HashMap<String, String> {
        HashMap::from([
            ("#p".to_owned(), "pendingShard".to_owned()),
            ("#n".to_owned(), "name".to_owned()),
        ])
    }

    #[test]
    fn an_update_names_what_it_sets_removes_and_changes() {
        let actions = update_actions(
            "SET #n = :n, c = if_not_exists(c, :zero), total = total + :one REMOVE #p ADD seen :s",
            &names(),
        )
        .unwrap();
        assert_eq!(
            actions,
            [
                ("name".to_owned(), Action::Set(Operand::Value(":n".to_owned()))),
                ("c".to_owned(), Action::Set(Operand::IfNotExists(":zero".to_owned()))),
                ("total".to_owned(), Action::Set(Operand::Computed)),
                ("pendingShard".to_owned(), Action::Remove),
                ("seen".to_owned(), Action::Change),
            ]
        );
    }

    #[test]
    fn an_expression_it_cannot_read_is_refused() {
        assert!(update_actions("a = :a", &names()).is_err());
        assert!(update_actions("SET #missing = :a", &names()).is_err());
    }

    #[test]
    fn a_query_reads_the_partition_its_condition_fixes() {
        let values = serde_json::json!({":pk": {"S": "PENDING#3"}, ":t": {"N": "5"}});
        let values = values.as_object().unwrap();
        let value = partition_value("#p = :pk AND pendingSince < :t", &names(), values, "pendingShard");
        assert_eq!(value.unwrap(), "PENDING#3");
        assert!(partition_value("pendingSince < :t", &names(), values, "pendingShard").is_err());
    }
}
