//! Rate limits per store, counted in one-second windows in a counter every instance shares, so the limit
//! holds however many instances run. An instance takes permits from the counter in leases: one at a time
//! when its traffic is light, up to [`lease_cap`] when it keeps using them up, so a busy instance asks the
//! counter about once per ten requests, and a store at a limit in the thousands about once per hundredth of
//! its limit: the counter, one item, takes at most about a hundred writes a second whatever the limit. A permit leased and not used in its second is lost; the counter
//! therefore never admits more than the limit, and refuses a little early at worst. While an instance is
//! already asking the counter for a store, its other requests ask for themselves alone: concurrent requests
//! growing their leases at once would take many times what the instance uses, and refuse a store under its
//! limit.

use std::collections::HashMap;

use super::ids::StoreId;

/// Requests per second per store when the store sets no limit of its own (the Redo spec's figure).
pub const DEFAULT_PER_SECOND: u32 = 100;
/// The bounds of a store's own limit.
pub const PER_SECOND_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;
/// A bulk request counts as this many requests: it stores up to 100 events at about a third of the AWS
/// requests per event of single ingest, so ten single-request weights is its backend cost.
pub const BULK_WEIGHT: u32 = 10;
/// The most permits one instance leases at once under a limit of up to 1,000: a tenth of the limit at most.
pub const MAX_LEASE: u32 = 10;
/// Above a limit of 1,000 a lease may hold this share of it (1/100: 100 permits at 10,000 per second).
pub const LEASE_SHARE_DIVISOR: u32 = 100;

/// The most permits one instance leases at once under `limit`: a tenth of it up to [`MAX_LEASE`], and a
/// hundredth of it when that is more, so the counter's writes stay near a hundred a second at any limit.
/// The price: permits an instance leased and did not use in their second are lost (at most a lease per
/// instance), so a store with many busy instances may be refused a little before its limit.
pub fn lease_cap(limit: u32) -> u32 {
    (limit / 10).min(MAX_LEASE).max(limit / LEASE_SHARE_DIVISOR)
}

/// What the `RateLimit-*` headers of an answer say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets (the next whole second: always 1).
    pub reset_seconds: u32,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Served from this instance's lease.
    Admit(RateStatus),
    /// Known over the limit already in this window: 429 without asking the counter.
    Refuse(RateStatus),
    /// Ask the shared counter for `permits` in `window` (epoch second).
    Take { window: i64, permits: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Lease {
    window: i64,
    /// Leased permits not used yet.
    left: u32,
    /// The shared count of the window when it last answered.
    counted: u32,
    /// Permits asked for last time.
    size: u32,
    /// Requests of this instance waiting for the counter's answer. One dropped while waiting stays counted:
    /// the instance then asks for single permits, never for more than it uses.
    asking: u32,
}

/// One instance's leases, by store.
#[derive(Debug, Default)]
pub struct Leases(HashMap<StoreId, Lease>);

/// The request's weight against the limit: never above the limit, or it could never pass.
pub fn effective_weight(weight: u32, limit: u32) -> u32 {
    weight.clamp(1, limit.max(1))
}

impl Leases {
    /// The decision for a request of `weight` at `now_ms` under `limit` per second.
    pub fn decide(&mut self, store: &StoreId, now_ms: i64, limit: u32, weight: u32) -> Decision {
        let window = now_ms.div_euclid(1000);
        let weight = effective_weight(weight, limit);
        let cap = weight.max(lease_cap(limit));
        let Some(lease) = self.0.get_mut(store) else {
            let asking = Lease {
                window,
                left: 0,
                counted: 0,
                size: 0,
                asking: 1,
            };
            self.keep(store, asking);
            return Decision::Take {
                window,
                permits: weight,
            };
        };
        if lease.window == window {
            if lease.left >= weight {
                lease.left -= weight;
                return Decision::Admit(status(limit, lease));
            }
            if lease.counted.saturating_add(weight) > limit {
                return Decision::Refuse(status(limit, lease));
            }
        }
        let size = match window - lease.window {
            _ if lease.asking > 0 => weight,
            0 => lease.size.saturating_mul(2),
            1 => lease.size,
            _ => weight,
        };
        lease.asking += 1;
        Decision::Take {
            window,
            permits: size.clamp(weight, cap),
        }
    }

    /// The counter granted `permits` in `window` and now counts `counted`; one request of `weight` uses them.
    pub fn granted(
        &mut self,
        store: &StoreId,
        window: i64,
        permits: u32,
        weight: u32,
        counted: u32,
        limit: u32,
    ) -> RateStatus {
        let weight = effective_weight(weight, limit);
        let lease = Lease {
            window,
            left: permits.saturating_sub(weight),
            counted,
            size: permits,
            asking: self.asking(store).saturating_sub(1),
        };
        self.keep(store, lease);
        status(limit, &lease)
    }

    /// The counter refused `permits` in `window`, where it counts `counted`. Returns the smaller request to
    /// try instead when one still fits, else the 429's status.
    pub fn refused(
        &mut self,
        store: &StoreId,
        window: i64,
        permits: u32,
        weight: u32,
        counted: u32,
        limit: u32,
    ) -> Result<u32, RateStatus> {
        let weight = effective_weight(weight, limit);
        let retry = permits > weight && counted.saturating_add(weight) <= limit;
        let lease = Lease {
            window,
            left: 0,
            counted,
            size: weight,
            // A retry is still asking.
            asking: self.asking(store).saturating_sub(u32::from(!retry)),
        };
        self.keep(store, lease);
        if retry {
            Ok(weight)
        } else {
            Err(status(limit, &lease))
        }
    }

    /// A request stopped waiting for the counter without an answer (the counter failed).
    pub fn abandoned(&mut self, store: &StoreId) {
        if let Some(lease) = self.0.get_mut(store) {
            lease.asking = lease.asking.saturating_sub(1);
        }
    }

    fn asking(&self, store: &StoreId) -> u32 {
        self.0.get(store).map_or(0, |lease| lease.asking)
    }
}

/// Leases one instance keeps at most, so an instance serving many stores stays small.
const MAX_LEASES: usize = 1_024;

impl Leases {
    /// Stores `lease`. At the bound, leases of earlier seconds go first (they can no longer be used), then
    /// all: a dropped lease only forgoes permits already counted, so the limit still holds.
    fn keep(&mut self, store: &StoreId, lease: Lease) {
        if self.0.len() >= MAX_LEASES && !self.0.contains_key(store) {
            self.0.retain(|_, kept| kept.window >= lease.window);
            if self.0.len() >= MAX_LEASES {
                self.0.clear();
            }
        }
        self.0.insert(store.clone(), lease);
    }
}

fn status(limit: u32, lease: &Lease) -> RateStatus {
    RateStatus {
        limit,
        remaining: limit
            .saturating_sub(lease.counted)
            .saturating_add(lease.left)
            .min(limit),
        reset_seconds: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> StoreId {
        StoreId::parse("65f1a2b3c4d5e6f708192a3b").unwrap()
    }

    fn take(window: i64, permits: u32) -> Decision {
        Decision::Take { window, permits }
    }

    #[test]
    fn when_an_instance_first_sees_a_store_should_ask_for_just_its_request() {
        let mut leases = Leases::default();
        assert_eq!(leases.decide(&store(), 5_500, 100, 1), take(5, 1));
        assert_eq!(leases.decide(&store(), 5_500, 100, 10), take(5, 10));
    }

    #[test]
    fn when_leases_run_out_within_a_second_should_double_them_up_to_a_tenth_of_the_limit() {
        let mut leases = Leases::default();
        let mut asked = Vec::new();
        let mut counted = 0;
        for _ in 0..40 {
            match leases.decide(&store(), 7_000, 100, 1) {
                Decision::Take { window, permits } => {
                    asked.push(permits);
                    counted += permits;
                    leases.granted(&store(), window, permits, 1, counted, 100);
                }
                Decision::Admit(_) => {}
                Decision::Refuse(_) => panic!("under the limit"),
            }
        }
        assert_eq!(asked, [1, 2, 4, 8, 10, 10, 10]);
    }

    #[test]
    fn when_the_limit_is_in_the_thousands_should_let_a_lease_grow_to_a_hundredth_of_it() {
        assert_eq!(
            (lease_cap(100), lease_cap(1_000), lease_cap(5_000), lease_cap(10_000)),
            (10, 10, 50, 100)
        );
        let mut leases = Leases::default();
        let (mut asked, mut counted) = (Vec::new(), 0);
        for _ in 0..400 {
            if let Decision::Take { window, permits } = leases.decide(&store(), 7_000, 10_000, 1) {
                asked.push(permits);
                counted += permits;
                leases.granted(&store(), window, permits, 1, counted, 10_000);
            }
        }
        assert_eq!(asked, [1, 2, 4, 8, 16, 32, 64, 100, 100, 100]);
    }

    #[test]
    fn when_a_second_passes_should_keep_the_lease_size_and_after_a_quiet_spell_start_small() {
        let mut leases = Leases::default();
        leases.granted(&store(), 7, 8, 1, 8, 100);
        assert_eq!(leases.decide(&store(), 8_100, 100, 1), take(8, 8));
        assert_eq!(leases.decide(&store(), 20_000, 100, 1), take(20, 1));
    }

    #[test]
    fn when_the_counter_is_full_should_refuse_locally_until_the_next_second() {
        let mut leases = Leases::default();
        let refused = leases.refused(&store(), 9, 1, 1, 100, 100);
        let expected = RateStatus {
            limit: 100,
            remaining: 0,
            reset_seconds: 1,
        };
        assert_eq!(refused, Err(expected));
        assert_eq!(leases.decide(&store(), 9_900, 100, 1), Decision::Refuse(expected));
        assert_eq!(leases.decide(&store(), 10_000, 100, 1), take(10, 1));
    }

    #[test]
    fn when_a_lease_does_not_fit_but_the_request_does_should_retry_with_the_request_alone() {
        let mut leases = Leases::default();
        assert_eq!(leases.refused(&store(), 9, 8, 1, 95, 100), Ok(1));
        assert!(leases.refused(&store(), 9, 10, 10, 95, 100).is_err());
    }

    #[test]
    fn when_reporting_remaining_should_count_this_instances_unused_permits() {
        let mut leases = Leases::default();
        let status = leases.granted(&store(), 3, 4, 1, 40, 100);
        assert_eq!(status.remaining, 63);
        assert_eq!(
            leases.decide(&store(), 3_100, 100, 1),
            Decision::Admit(RateStatus {
                remaining: 62,
                ..status
            })
        );
    }

    #[test]
    fn when_requests_ask_the_counter_at_once_should_grow_the_lease_only_when_none_is_waiting() {
        let mut leases = Leases::default();
        leases.granted(&store(), 3, 1, 1, 1, 100);
        assert_eq!(
            leases.decide(&store(), 3_100, 100, 1),
            take(3, 2),
            "the first asks for more"
        );
        for _ in 0..20 {
            assert_eq!(
                leases.decide(&store(), 3_200, 100, 1),
                take(3, 1),
                "the others for themselves"
            );
        }
        leases.granted(&store(), 3, 2, 1, 4, 100);
        leases.refused(&store(), 3, 1, 1, 200, 100).unwrap_err();
        leases.abandoned(&store());
        for _ in 0..18 {
            leases.granted(&store(), 3, 1, 1, 24, 100);
        }
        assert_eq!(
            leases.decide(&store(), 3_300, 100, 1),
            take(3, 2),
            "nobody waits: growing again"
        );
    }

    #[test]
    fn when_a_weight_exceeds_the_limit_should_count_as_the_whole_limit() {
        assert_eq!(effective_weight(10, 5), 5);
        assert_eq!(effective_weight(0, 5), 1);
    }

    #[test]
    fn when_an_instance_sees_many_stores_should_keep_a_bounded_number_of_leases() {
        let mut leases = Leases::default();
        for i in 0..3_000u32 {
            let store = StoreId::parse(&format!("{i:024x}")).unwrap();
            leases.granted(&store, i64::from(i / 100), 10, 1, 10, 100);
        }
        assert!(leases.0.len() <= MAX_LEASES);
    }
}
