//! The API token: `cg_live_` or `cg_test_`, an 8-character Key ID, a 22-character secret (131 bits from the OS
//! CSPRNG) and a 6-character CRC32 checksum, all base62 — 44 characters that a double-click selects whole.
//! Secret scanners can match it with `\bcg_(live|test)_[0-9A-Za-z]{36}\b`.
use std::fmt;

use rand::rngs::OsRng;
use rand::Rng;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const PREFIX_LEN: usize = 8;
pub const KEY_ID_LEN: usize = 8;
pub const SECRET_LEN: usize = 22;
pub const CHECKSUM_LEN: usize = 6;
pub const TOKEN_LEN: usize = PREFIX_LEN + KEY_ID_LEN + SECRET_LEN + CHECKSUM_LEN;

/// Whether this deployment mints live or test keys; a token of the other kind is malformed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEnvironment {
    Live,
    Test,
}

impl TokenEnvironment {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenEnvironment::Live => "cg_live_",
            TokenEnvironment::Test => "cg_test_",
        }
    }
}

/// The public, non-secret identifier of a key, shown in the UI as "Key ID".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Accepts exactly eight ASCII letters and digits.
    pub fn parse(raw: &str) -> Option<KeyId> {
        (raw.len() == KEY_ID_LEN && raw.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| KeyId(raw.to_owned()))
    }

    pub(crate) fn generate() -> KeyId {
        KeyId(random_base62(KEY_ID_LEN))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A whole token in plaintext. Not `Debug`, `Display`, `Clone` or `Serialize`: it exists only between minting
/// and the one response that reveals it, and between a request's header and its verification.
pub struct Token(String);

impl Token {
    /// A new token with a fresh Key ID and secret.
    pub fn generate(environment: TokenEnvironment) -> (Token, KeyId) {
        let key_id = KeyId::generate();
        let body = format!("{}{}{}", environment.prefix(), key_id.as_str(), random_base62(SECRET_LEN));
        let token = format!("{body}{}", checksum(&body));
        (Token(token), key_id)
    }

    /// The plaintext, for the reveal response.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Hands the plaintext over to its one destination (the reveal response), consuming the token.
    pub fn into_revealed(self) -> String {
        self.0
    }
}

/// Why a presented token was refused before any database access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedToken {
    #[error("the token has the wrong prefix")]
    Prefix,
    #[error("the token has the wrong length")]
    Length,
    #[error("the token has characters outside letters and digits")]
    Character,
    #[error("the token's checksum does not match")]
    Checksum,
}

/// A token that passed the offline checks: its Key ID, and its secret for verification against the hash.
pub struct ParsedToken {
    pub key_id: KeyId,
    secret: String,
}

impl ParsedToken {
    pub fn secret(&self) -> &[u8] {
        self.secret.as_bytes()
    }
}

/// Checks prefix, length, alphabet and checksum — never the database.
pub fn parse(raw: &str, environment: TokenEnvironment) -> Result<ParsedToken, MalformedToken> {
    if !raw.starts_with(environment.prefix()) {
        return Err(MalformedToken::Prefix);
    }
    if raw.len() != TOKEN_LEN {
        return Err(MalformedToken::Length);
    }
    let rest = &raw[PREFIX_LEN..];
    if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(MalformedToken::Character);
    }
    let (body, given) = raw.split_at(TOKEN_LEN - CHECKSUM_LEN);
    if checksum(body) != given {
        return Err(MalformedToken::Checksum);
    }
    Ok(ParsedToken { key_id: KeyId(rest[..KEY_ID_LEN].to_owned()), secret: rest[KEY_ID_LEN..KEY_ID_LEN + SECRET_LEN].to_owned() })
}

/// The same Key ID as `token` with a fresh random secret and a valid checksum: what an attacker who knows the
/// format and a Key ID can send. For tests and the benchmark only (`test-util`), so the format has one
/// implementation.
#[cfg(feature = "test-util")]
pub fn forge_secret(token: &str) -> String {
    let body = format!("{}{}", &token[..PREFIX_LEN + KEY_ID_LEN], random_base62(SECRET_LEN));
    format!("{body}{}", checksum(&body))
}

pub(crate) fn random_base62(length: usize) -> String {
    (0..length).map(|_| BASE62[OsRng.gen_range(0..BASE62.len())] as char).collect()
}

/// CRC32 of `body`, as six base62 digits (62⁶ > 2³², so every checksum has its own spelling).
pub(crate) fn checksum(body: &str) -> String {
    let mut value = u64::from(crc32fast::hash(body.as_bytes()));
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits.to_vec()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_documented_checksum_matches_a_vector_computed_elsewhere() {
        // CRC32 (zlib) of the first 38 characters in base62, computed independently with Python's zlib.crc32.
        let known = "cg_test_Ab3dE6gH0123456789abcdefghijKL13obyZ";
        assert_eq!(checksum(&known[..38]), "13obyZ");
        assert_eq!(parse(known, TokenEnvironment::Test).map(|parsed| parsed.key_id.as_str().to_owned()), Ok("Ab3dE6gH".to_owned()));
    }

    #[test]
    fn a_generated_token_has_the_documented_shape_and_parses_back() {
        let (token, key_id) = Token::generate(TokenEnvironment::Live);
        let text = token.expose();
        assert_eq!(text.len(), 44);
        assert!(text.starts_with("cg_live_"));
        assert!(text[8..].bytes().all(|b| b.is_ascii_alphanumeric()));
        let parsed = parse(text, TokenEnvironment::Live).unwrap();
        assert_eq!(parsed.key_id, key_id);
        assert_eq!(parsed.secret().len(), SECRET_LEN);
    }

    #[test]
    fn a_test_token_is_malformed_on_a_live_deployment() {
        let (token, _) = Token::generate(TokenEnvironment::Test);
        assert_eq!(parse(token.expose(), TokenEnvironment::Live).err(), Some(MalformedToken::Prefix));
    }

    #[test]
    fn truncated_padded_and_odd_tokens_are_malformed() {
        let (token, _) = Token::generate(TokenEnvironment::Test);
        let text = token.expose();
        assert_eq!(parse(&text[..43], TokenEnvironment::Test).err(), Some(MalformedToken::Length));
        assert_eq!(parse(&format!("{text}0"), TokenEnvironment::Test).err(), Some(MalformedToken::Length));
        assert_eq!(parse(&format!("{}-{}", &text[..20], &text[21..]), TokenEnvironment::Test).err(), Some(MalformedToken::Character));
        assert_eq!(parse("", TokenEnvironment::Test).err(), Some(MalformedToken::Prefix));
        assert_eq!(parse("cg_test_ü", TokenEnvironment::Test).err(), Some(MalformedToken::Length));
    }

    #[test]
    fn secrets_and_key_ids_differ_every_time() {
        let (a, id_a) = Token::generate(TokenEnvironment::Test);
        let (b, id_b) = Token::generate(TokenEnvironment::Test);
        assert_ne!(a.expose(), b.expose());
        assert_ne!(id_a, id_b);
    }

    #[test]
    fn key_ids_are_exactly_eight_letters_or_digits() {
        assert!(KeyId::parse("Ab3dE6gH").is_some());
        for bad in ["Ab3dE6g", "Ab3dE6gH9", "Ab3d-6gH", "Ab3dE6g "] {
            assert!(KeyId::parse(bad).is_none(), "{bad:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn a_one_character_typo_fails_the_checksum(position in 8usize..TOKEN_LEN, replacement in 0usize..62) {
            let (token, _) = Token::generate(TokenEnvironment::Test);
            let mut bytes = token.expose().as_bytes().to_vec();
            let new = BASE62[replacement];
            prop_assume!(bytes[position] != new);
            bytes[position] = new;
            let corrupted = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(parse(&corrupted, TokenEnvironment::Test).err(), Some(MalformedToken::Checksum));
        }

        #[test]
        fn arbitrary_input_never_panics_and_is_never_accepted(input in ".{0,80}") {
            prop_assert!(parse(&input, TokenEnvironment::Test).is_err());
        }

        #[test]
        fn well_formed_random_bodies_without_their_checksum_are_refused(body in "[0-9A-Za-z]{36}") {
            let candidate = format!("cg_test_{body}");
            let valid_checksum = checksum(&candidate[..TOKEN_LEN - CHECKSUM_LEN]);
            prop_assume!(candidate[TOKEN_LEN - CHECKSUM_LEN..] != valid_checksum);
            prop_assert_eq!(parse(&candidate, TokenEnvironment::Test).err(), Some(MalformedToken::Checksum));
        }
    }
}
