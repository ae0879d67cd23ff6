//! What a bullet comment's text (and a blocked word) may be: one visible line. Characters that
//! draw nothing would let a comment show nothing, or slip a blocked word through (`spo\u{AD}iler`);
//! stacked combining marks would let it draw over its neighbours.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::{Error, ErrorCode, Result};

/// Invisible characters of the Basic Multilingual Plane, as inclusive ranges (the OpenAPI
/// pattern is built from this list too): C0 and C1 controls; format characters (soft hyphen,
/// Arabic number signs, zero-width and direction marks, word joiners, the BOM); the combining
/// grapheme joiner, Mongolian and standard variation selectors; the Hangul fillers, Khmer
/// inherent vowels and the braille blank, which draw nothing; line and paragraph separators;
/// the specials block.
pub const UNSEEN_BMP: &[(u32, u32)] = &[
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFF),
];

/// Combining marks in a row over one character (Vietnamese needs two; more is "Zalgo").
const MAX_MARKS: usize = 3;

pub fn unseen(c: char) -> bool {
    let n = c as u32;
    UNSEEN_BMP.iter().any(|&(a, b)| (a..=b).contains(&n))
        // Format characters beyond the BMP, tags and the variation selectors supplement.
        || matches!(n, 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// `text` is one visible line: no invisible character, at most [`MAX_MARKS`] combining marks
/// in a row, and something to see that is neither a space nor a mark.
pub fn check(text: &str, what: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid(ErrorCode::BadText, format!("{what} {why}")));
    if text.chars().any(unseen) {
        return bad("is one line without control, format, filler or direction characters");
    }
    let mut marks = 0;
    for c in text.chars() {
        marks = if is_combining_mark(c) { marks + 1 } else { 0 };
        if marks > MAX_MARKS {
            return bad("has at most three combining marks on a character");
        }
    }
    if !text.chars().any(|c| !c.is_whitespace() && !is_combining_mark(c)) {
        return bad("is not only spaces or marks");
    }
    Ok(())
}

/// The form blocked words are compared in: compatibility-normalised (fullwidth `ｓ` is `s`)
/// and lowercased.
pub fn fold(text: &str) -> String {
    text.nfkc().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_stacked_text_is_refused() {
        for bad in [
            "spo\u{AD}iler",
            "a\u{34F}b",
            "x\u{FE0F}",
            "\u{3164}",
            "\u{2800}\u{2800}",
            "t\u{E0020}",
            "\u{301}\u{301}",
            " ",
        ] {
            assert!(check(bad, "text").is_err(), "{bad:?}");
        }
        assert!(check(&format!("a{}", "\u{301}".repeat(4)), "text").is_err(), "zalgo");
        for good in ["spoiler", "Tiếng Việt", "前方高能 🎉", "a\u{301}", "<b>&</b>"] {
            assert!(check(good, "text").is_ok(), "{good:?}");
        }
    }

    #[test]
    fn folding_sees_through_width_and_case() {
        assert_eq!(fold("ＳＰＯＩＬＥＲ"), "spoiler");
        assert_eq!(fold("Spoiler"), fold("sPOILER"));
    }
}
