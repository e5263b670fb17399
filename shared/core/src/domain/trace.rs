//! W3C Trace Context: the `traceparent` a merchant's request carries (or the one we start for it), handed on
//! through the dispatch queue to every destination, so one request can be followed to each delivery.
//! <https://www.w3.org/TR/trace-context/#traceparent-header>

use std::fmt;

/// The W3C name of the trace context: the HTTP header ingest reads and webhooks carry, and the message
/// attribute of the dispatch queue and of SQS and SNS deliveries.
pub const TRACEPARENT: &str = "traceparent";

/// One hop of a trace: the trace it belongs to, the span that made this hop, and the trace flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
}

impl TraceContext {
    /// Reads a `traceparent` value. `None` for anything the specification says to ignore (wrong lengths,
    /// upper-case or non-hex digits, version `ff`, all-zero ids); a version after `00` is read by its first
    /// four fields, as the specification asks.
    pub fn parse(header: &str) -> Option<Self> {
        let mut fields = header.trim().split('-');
        let version = fields.next()?;
        let (trace, span, flags) = (fields.next()?, fields.next()?, fields.next()?);
        let later_version = version != "00";
        if version == "ff" || (!later_version && fields.next().is_some()) {
            return None;
        }
        lower_hex::<1>(version)?;
        let (trace_id, span_id, flags) = (lower_hex::<16>(trace)?, lower_hex::<8>(span)?, lower_hex::<1>(flags)?);
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            flags: flags[0],
        })
    }

    /// A new trace, for a request that brought none. `random` supplies the ids.
    pub fn start(random: [u8; 32]) -> Self {
        let mut trace_id = [0u8; 16];
        trace_id.copy_from_slice(&random[..16]);
        if trace_id == [0; 16] {
            trace_id[15] = 1;
        }
        Self {
            trace_id,
            span_id: span_id_of(&random[16..24]),
            flags: 0,
        }
    }

    /// The next hop of the same trace: a new span whose parent is this one. `random` supplies the span id.
    pub fn child(&self, random: [u8; 32]) -> Self {
        Self {
            span_id: span_id_of(&random[..8]),
            ..*self
        }
    }

    /// The trace id as 32 lower-case hex digits: what the log lines carry.
    pub fn trace_id(&self) -> String {
        hex::encode(self.trace_id)
    }
}

/// The `traceparent` value (version `00`).
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex::encode(self.trace_id),
            hex::encode(self.span_id),
            self.flags
        )
    }
}

fn span_id_of(random: &[u8]) -> [u8; 8] {
    let mut id = [0u8; 8];
    id.copy_from_slice(random);
    if id == [0; 8] {
        id[7] = 1;
    }
    id
}

fn lower_hex<const N: usize>(digits: &str) -> Option<[u8; N]> {
    if digits.len() != 2 * N || !digits.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut bytes = [0u8; N];
    hex::decode_to_slice(digits, &mut bytes).ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn reads_and_writes_the_specification_example() {
        let trace = TraceContext::parse(EXAMPLE).expect("valid");
        assert_eq!(trace.to_string(), EXAMPLE);
        assert_eq!(trace.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn a_child_keeps_the_trace_and_flags_and_changes_the_span() {
        let parent = TraceContext::parse(EXAMPLE).expect("valid");
        let child = parent.child([7; 32]);
        assert_eq!(
            child.to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0707070707070707-01"
        );
    }

    #[test]
    fn a_started_trace_is_valid_and_reads_back() {
        let started = TraceContext::start([0; 32]);
        assert_eq!(TraceContext::parse(&started.to_string()), Some(started));
        let started = TraceContext::start([0xab; 32]);
        assert_eq!(started.trace_id(), "ab".repeat(16));
    }

    #[test]
    fn ignores_what_the_specification_says_to_ignore() {
        for bad in [
            "",
            "00",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            assert_eq!(TraceContext::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_later_version_is_read_by_its_first_four_fields() {
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-whatever";
        assert_eq!(
            TraceContext::parse(later).map(|t| t.trace_id()),
            Some("4bf92f3577b34da6a3ce929d0e0e4736".into())
        );
    }
}
