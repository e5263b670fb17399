//! Key classes: a partition key value named by the shape the code builds it from
//! (`shared/aws/src/keys.rs`), with its variable parts named, so the model can say how many partitions a
//! class spreads over. A key of no class is a request the recorder cannot interpret.

/// Every partition-key shape of the table and its indexes. `{name}` is one `#`-free segment, except a
/// merchant's string ([`FREE_TEXT`]) in the last place, which takes the rest (an email may hold a `#`). Keep in step with keys.rs: a key the code
/// writes that is missing here fails the test that records it.
const CLASSES: &[&str] = &[
    "APIKEY#{key}",
    "STORE#{store}",
    "STORE#{store}#RATE#{window}",
    "STORE#{store}#CUSTOMER#{customer}",
    "STORE#{store}#EMAIL#{email}",
    "STORE#{store}#PHONE#{phone}",
    "STORE#{store}#UNIQUE#{unique}",
    "STORE#{store}#EVENT#{event}",
    "STORE#{store}#ORDER#{order}",
    "STORE#{store}#PRODUCTVIEW#{shard}#{product}",
    "STORE#{store}#CART#{customer}",
    "STORE#{store}#OPENCARTS#{shard}",
    "STORE#{store}#ENTITY#{type}#{entity}",
    "STORE#{store}#ENTITIES#{type}#{shard}",
    "STORE#{store}#JOBS",
    "STORE#{store}#JOB#{job}#RUNS",
    "STORE#{store}#NOTIFIED#{customer}",
    "STORE#{store}#SUBSCRIPTIONS",
    "STORE#{store}#SUB#{subscription}#REPLAYS",
    "STORE#{store}#SUB#{subscription}#{shard}",
    "STORE#{store}#SUB#{subscription}#{status}#{shard}",
    "STORE#{store}#EVENTS#{shard}",
    "STORE#{store}#NAMED#{name}#{shard}",
    "PENDING#{shard}",
    "DUE#{shard}",
];

/// The class of a partition key value, `None` when it has none.
pub fn class_of(key: &str) -> Option<&'static str> {
    CLASSES.iter().copied().find(|class| matches(class, key))
}

/// Variables that hold a merchant's string, which may contain `#`: in the last place they take the rest.
const FREE_TEXT: &[&str] = &["{email}", "{phone}", "{unique}", "{order}", "{product}", "{entity}"];
/// A merchant's string followed by one last segment (an event name, then its shard): it takes all but the
/// last segment.
const FREE_TEXT_BEFORE_LAST: &[&str] = &["{name}"];

fn matches(class: &str, key: &str) -> bool {
    let pattern: Vec<&str> = class.split('#').collect();
    let mut rest = Some(key);
    for (i, part) in pattern.iter().enumerate() {
        let Some(remaining) = rest else { return false };
        let takes_rest = i + 1 == pattern.len() && FREE_TEXT.contains(part);
        let split = match i + 2 == pattern.len() && FREE_TEXT_BEFORE_LAST.contains(part) {
            true => remaining.rsplit_once('#'),
            false => remaining.split_once('#'),
        };
        let segment = match split {
            Some((segment, tail)) if !takes_rest => {
                rest = Some(tail);
                segment
            }
            _ => {
                rest = None;
                remaining
            }
        };
        let fits = if part.starts_with('{') {
            !segment.is_empty()
        } else {
            segment == *part
        };
        if !fits {
            return false;
        }
    }
    rest.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_named_by_their_shape() {
        assert_eq!(class_of("STORE#s1#EVENT#e1"), Some("STORE#{store}#EVENT#{event}"));
        assert_eq!(class_of("STORE#s1"), Some("STORE#{store}"));
        assert_eq!(
            class_of("STORE#s1#NAMED#Order #1 #Placed#63"),
            Some("STORE#{store}#NAMED#{name}#{shard}")
        );
        assert_eq!(class_of("STORE#s1#EVENTS#7"), Some("STORE#{store}#EVENTS#{shard}"));
        assert_eq!(class_of("STORE#s1#JOB#j#RUNS"), Some("STORE#{store}#JOB#{job}#RUNS"));
        assert_eq!(
            class_of("STORE#s1#EMAIL#a#b@example.com"),
            Some("STORE#{store}#EMAIL#{email}")
        );
        assert_eq!(
            class_of("STORE#s1#OPENCARTS#3"),
            Some("STORE#{store}#OPENCARTS#{shard}")
        );
        assert_eq!(
            class_of("STORE#s1#PRODUCTVIEW#3#P#1"),
            Some("STORE#{store}#PRODUCTVIEW#{shard}#{product}")
        );
        assert_eq!(class_of("PENDING#3"), Some("PENDING#{shard}"));
    }

    #[test]
    fn a_key_of_no_known_shape_has_no_class() {
        assert_eq!(class_of("STORE#s1#SOMETHING#x"), None);
        assert_eq!(class_of("STORE#s1#EVENT#"), None);
        assert_eq!(class_of("OTHER#1"), None);
        assert_eq!(class_of("STORE#s1#JOB#j"), None);
    }
}
