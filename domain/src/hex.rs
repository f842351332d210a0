//! Lower-case hexadecimal, the form the server's secrets and digests are written in.

/// Two digits per byte, written straight into one buffer (OAuth access tokens are digested on every request).
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The bytes of an even number of hex digits (either case), or `None`.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_nonsense_is_refused() {
        assert_eq!(encode(&[0x00, 0xab, 0xff, 0x10, 0x09]), "00abff1009");
        assert_eq!(encode(&[]), "");
        assert_eq!(decode("00ABff"), Some(vec![0x00, 0xab, 0xff]));
        for bad in ["0", "zz", "+1", "éé"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
