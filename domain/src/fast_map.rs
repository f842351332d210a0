//! The hash maps of what every request touches, and which hasher each uses.
//!
//! [`FastMap`] is for maps whose keys are facts of verified credentials — Key IDs, access tokens' IDs, our
//! own tools' names — such as budgets, fresh copies of credentials and usage counts per key and day. It hashes
//! with foldhash, several times faster than the standard library's SipHash on short keys, seeded at random per
//! process (its `std` feature) and per map. Nobody outside chooses those keys: only a verified credential puts
//! an entry there.
//!
//! [`GuardedMap`] is for maps keyed partly by what a client sends (its User-Agent, its address as a proxy
//! reports it): those keep SipHash with a random key (the standard library's `RandomState`), which an
//! outsider cannot aim at one bucket however many names it makes up. Both are also bounded where kept.
pub(crate) type FastMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;

/// A map keyed partly by text a client chose: SipHash-1-3 with a random per-map key.
pub(crate) type GuardedMap<K, V> = hashbrown::HashMap<K, V, std::hash::RandomState>;
