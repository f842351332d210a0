//! The hash map of what every request touches: usage counts, tool-call bursts, budgets and the fresh copies of
//! credentials. It hashes with foldhash (hashbrown's default hasher) instead of the standard library's SipHash,
//! several times faster on short keys. foldhash is seeded at random per process and per map, so an outsider
//! cannot aim keys at one bucket; and nobody outside gets to choose many keys anyway: they are facts of
//! verified credentials (Key IDs, token IDs, our tools' names) or what a verified key's holder sends (its
//! address and client name), and each map is bounded (see where it is kept).
pub(crate) type FastMap<K, V> = hashbrown::HashMap<K, V, hashbrown::DefaultHashBuilder>;
