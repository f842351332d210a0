//! OAuth tokens: `cgat_` (access, one hour) and `cgrt_` (refresh, rotated on every use), then `live_` or
//! `test_`, an 8-character token ID, a 32-character secret (190 bits from the OS CSPRNG) and a 6-character
//! CRC32 checksum, all base62 — the same shape as API keys, so secret scanners find them with
//! `\bcg(at|rt)_(live|test)_[0-9A-Za-z]{46}\b`. Only the SHA-256 of a whole token is stored.
use crate::keys::token::{checksum, random_base62, TokenEnvironment, CHECKSUM_LEN, KEY_ID_LEN};
use crate::oauth::TokenKind;

const SECRET_LEN: usize = 32;
const PREFIX_LEN: usize = 10;
pub const TOKEN_LEN: usize = PREFIX_LEN + KEY_ID_LEN + SECRET_LEN + CHECKSUM_LEN;

fn prefix(kind: TokenKind, environment: TokenEnvironment) -> &'static str {
    match (kind, environment) {
        (TokenKind::Access, TokenEnvironment::Live) => "cgat_live_",
        (TokenKind::Access, TokenEnvironment::Test) => "cgat_test_",
        (TokenKind::Refresh, TokenEnvironment::Live) => "cgrt_live_",
        (TokenKind::Refresh, TokenEnvironment::Test) => "cgrt_test_",
    }
}

/// Whether `presented` looks like an OAuth token of either kind (any environment): the API layer sends those to
/// the connection check instead of the key check.
pub fn is_oauth_token(presented: &str) -> bool {
    presented.starts_with("cgat_") || presented.starts_with("cgrt_")
}

/// A token in plaintext, between its issue and the one token response that carries it. Not `Debug`, `Clone`
/// or `Serialize`.
pub struct OAuthToken {
    text: String,
    pub token_id: String,
}

impl OAuthToken {
    pub fn generate(kind: TokenKind, environment: TokenEnvironment) -> OAuthToken {
        let token_id = random_base62(KEY_ID_LEN);
        let body = format!("{}{token_id}{}", prefix(kind, environment), random_base62(SECRET_LEN));
        let text = format!("{body}{}", checksum(&body));
        OAuthToken { text, token_id }
    }

    /// The SHA-256 the database keeps.
    pub fn digest(&self) -> String {
        crate::bearer::digest(&self.text)
    }

    pub fn into_text(self) -> String {
        self.text
    }
}

/// A presented token that passed the offline checks (kind, environment, length, alphabet, checksum).
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedOAuthToken {
    pub token_id: String,
    /// The SHA-256 of the whole token, to compare with the stored one.
    pub digest: String,
}

/// Checks a presented token offline; `None` when it is not a well-formed token of `kind` for this deployment.
pub fn parse(presented: &str, kind: TokenKind, environment: TokenEnvironment) -> Option<ParsedOAuthToken> {
    let rest = presented.strip_prefix(prefix(kind, environment))?;
    if presented.len() != TOKEN_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (body, given) = presented.split_at(TOKEN_LEN - CHECKSUM_LEN);
    (checksum(body) == given).then(|| ParsedOAuthToken { token_id: rest[..KEY_ID_LEN].to_owned(), digest: crate::bearer::digest(presented) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_has_the_documented_shape_and_parses_back_as_its_own_kind_only() {
        let token = OAuthToken::generate(TokenKind::Access, TokenEnvironment::Test);
        let id = token.token_id.clone();
        let digest = token.digest();
        let text = token.into_text();
        assert_eq!(text.len(), 56);
        assert!(text.starts_with("cgat_test_") && text[10..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(is_oauth_token(&text));
        assert_eq!(parse(&text, TokenKind::Access, TokenEnvironment::Test), Some(ParsedOAuthToken { token_id: id, digest }));
        assert_eq!(parse(&text, TokenKind::Refresh, TokenEnvironment::Test), None, "an access token is no refresh token");
        assert_eq!(parse(&text, TokenKind::Access, TokenEnvironment::Live), None, "a test token is refused on a live deployment");
    }

    #[test]
    fn a_changed_character_or_length_is_refused_offline() {
        let text = OAuthToken::generate(TokenKind::Refresh, TokenEnvironment::Live).into_text();
        let mut changed = text.clone().into_bytes();
        changed[20] = if changed[20] == b'a' { b'b' } else { b'a' };
        assert_eq!(parse(&String::from_utf8(changed).unwrap(), TokenKind::Refresh, TokenEnvironment::Live), None);
        assert_eq!(parse(&text[..55], TokenKind::Refresh, TokenEnvironment::Live), None);
        assert_eq!(parse(&format!("{text}x"), TokenKind::Refresh, TokenEnvironment::Live), None);
        assert!(parse(&text, TokenKind::Refresh, TokenEnvironment::Live).is_some());
    }

    #[test]
    fn the_scanner_pattern_in_the_docs_matches_both_kinds() {
        for kind in [TokenKind::Access, TokenKind::Refresh] {
            let text = OAuthToken::generate(kind, TokenEnvironment::Live).into_text();
            let (prefix, body) = text.split_at(10);
            assert!(["cgat_live_", "cgrt_live_"].contains(&prefix));
            assert_eq!(body.len(), 46);
        }
    }
}
