//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 30-second steps, 6 digits, as
//! every authenticator app expects; the seed is shown as RFC 4648 base32 and in an `otpauth://` URI.
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Bytes of a seed (160 bits, RFC 4226's recommendation).
pub const SEED_BYTES: usize = 20;

/// The step that contains `at`.
pub fn step_at(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECONDS)
}

/// The code of `seed` at `step`, as HOTP computes it (RFC 4226, section 5.3).
pub fn code(seed: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(seed).expect("HMAC takes a key of any length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    format!("{:0width$}", binary % 10u32.pow(DIGITS as u32), width = DIGITS)
}

/// The step within one step of `now` (either side: clocks drift and people type slowly) whose code is
/// `typed` (spaces ignored), if any. Every candidate is compared in full, whatever matched.
pub fn matching_step(seed: &[u8], typed: &str, now: DateTime<Utc>) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        if constant_time_eq(code(seed, step).as_bytes(), typed.as_bytes()) {
            found = found.or(Some(step));
        }
    }
    found
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// RFC 4648 base32 without padding: how authenticator apps take a seed typed by hand.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 0x1f) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize]));
    }
    out
}

/// Reads RFC 4648 base32 as typed from a setup screen (any case, spaces and padding ignored); `None` for other
/// characters.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = match c.to_ascii_uppercase() {
            letter @ 'A'..='Z' => letter as u32 - 'A' as u32,
            digit @ '2'..='7' => digit as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The `otpauth://totp/…` URI an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, seed: &[u8]) -> String {
    let label = format!("{}:{}", encode(issuer), encode(account));
    format!("otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}", base32(seed), encode(issuer))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SEED: &[u8] = b"12345678901234567890";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn codes_match_the_sha1_vectors_of_rfc_6238() {
        // Appendix B gives 8 digits; the 6-digit code is their last six.
        for (seconds, expected) in
            [(59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            assert_eq!(code(RFC_SEED, step_at(at(seconds))), expected, "T = {seconds}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let now = at(1_111_111_111);
        let step = step_at(now);
        for offset in [-1, 0, 1] {
            assert_eq!(matching_step(RFC_SEED, &code(RFC_SEED, step + offset), now), Some(step + offset));
        }
        for offset in [-2, 2] {
            assert_eq!(matching_step(RFC_SEED, &code(RFC_SEED, step + offset), now), None);
        }
        let spaced = code(RFC_SEED, step);
        assert_eq!(matching_step(RFC_SEED, &format!("{} {}", &spaced[..3], &spaced[3..]), now), Some(step));
        for nonsense in ["", "12345", "1234567", "abcdef", "０５０４７１"] {
            assert_eq!(matching_step(RFC_SEED, nonsense, now), None, "{nonsense:?}");
        }
    }

    #[test]
    fn seeds_are_written_in_rfc_4648_base32() {
        for (bytes, expected) in [
            (&b""[..], ""),
            (b"f", "MY"),
            (b"fo", "MZXQ"),
            (b"foo", "MZXW6"),
            (b"foob", "MZXW6YQ"),
            (b"fooba", "MZXW6YTB"),
            (b"foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(bytes), expected);
        }
        assert_eq!(base32(RFC_SEED), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32_decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").as_deref(), Some(RFC_SEED));
        assert_eq!(base32_decode("MZXW6YQ=").as_deref(), Some(&b"foob"[..]));
        assert_eq!(base32_decode("MZ1W"), None, "1 is not base32");
    }

    #[test]
    fn the_uri_names_the_issuer_and_account_encoded() {
        let uri = otpauth_uri("Sunrise Home Care", "nina+1@sunrise.test", RFC_SEED);
        assert_eq!(
            uri,
            "otpauth://totp/Sunrise%20Home%20Care:nina%2B1%40sunrise.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Sunrise%20Home%20Care&algorithm=SHA1&digits=6&period=30"
        );
    }
}
