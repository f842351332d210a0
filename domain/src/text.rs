//! Rules for text people and clients type, shared by the server and the browser.

/// Zero-width and bidirectional-override characters: they make two texts look alike or reorder what a reader
/// sees ("Trojan Source"). Right-to-left scripts themselves are fine, and so is the zero-width joiner that emoji
/// sequences need.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_overrides_and_zero_width_spaces_are_invisible_but_joiners_and_scripts_are_not() {
        for invisible in ['\u{202E}', '\u{200B}', '\u{2066}', '\u{FEFF}'] {
            assert!(is_invisible_format(invisible), "{invisible:?}");
        }
        for visible in ['\u{200D}', 'a', 'م', '🧑'] {
            assert!(!is_invisible_format(visible), "{visible:?}");
        }
    }
}
