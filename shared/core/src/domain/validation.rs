//! Field errors with RFC 6901 JSON Pointers, collected while a request body is walked.

use serde::Serialize;
use serde_json::{Map, Value};

/// One invalid field: where it is in the request body and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) into the request body; `""` is the whole body.
    pub pointer: String,
    /// What is wrong, in words a developer can act on.
    pub detail: String,
}

/// A JSON Pointer under construction. Cheap to extend; escapes `~` and `/` as RFC 6901 requires.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    pub fn root() -> Self {
        Self(String::new())
    }

    /// A pointer with a prefix, e.g. `/events/3` for an event inside a bulk request.
    pub fn at(prefix: &str) -> Self {
        Self(prefix.to_owned())
    }

    pub fn key(&self, key: &str) -> Self {
        let mut path = String::with_capacity(self.0.len() + key.len() + 1);
        path.push_str(&self.0);
        path.push('/');
        for c in key.chars() {
            match c {
                '~' => path.push_str("~0"),
                '/' => path.push_str("~1"),
                c => path.push(c),
            }
        }
        Self(path)
    }

    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}/{index}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Collects every field error of a body, so one response lists them all.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, at: &Pointer, detail: impl Into<String>) {
        self.0.push(FieldError {
            pointer: at.0.clone(),
            detail: detail.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(value)` when nothing was added, else every error collected.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// JSON's name for the type of a value, for error messages.
pub fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Reads typed optional fields of an object, recording a type error under the field's pointer.
pub(crate) struct Fields<'a> {
    pub(crate) object: &'a Map<String, Value>,
    pub(crate) at: &'a Pointer,
}

impl Fields<'_> {
    pub(crate) fn string(&self, name: &str, errors: &mut Errors) -> Option<String> {
        match self.object.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::String(_)) => {
                errors.add(&self.at.key(name), "must not be empty");
                None
            }
            Some(other) => {
                errors.add(
                    &self.at.key(name),
                    format!("must be a string, not {}", json_type(other)),
                );
                None
            }
        }
    }

    /// [`Fields::string`], and "is required" when the field is missing.
    pub(crate) fn required(&self, name: &str, errors: &mut Errors) -> Option<String> {
        let found = self.string(name, errors);
        if matches!(self.object.get(name), None | Some(Value::Null)) {
            errors.add(&self.at.key(name), "is required");
        }
        found
    }

    pub(crate) fn boolean(&self, name: &str, errors: &mut Errors) -> Option<bool> {
        match self.object.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                errors.add(
                    &self.at.key(name),
                    format!("must be a boolean, not {}", json_type(other)),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_key_has_slash_or_tilde_should_escape_per_rfc6901() {
        let p = Pointer::root().key("data").key("a/b~c");
        assert_eq!(p.as_str(), "/data/a~1b~0c");
        assert_eq!(
            Pointer::at("/events").index(3).key("customer").as_str(),
            "/events/3/customer"
        );
    }
}
