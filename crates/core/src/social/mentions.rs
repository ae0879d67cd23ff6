//! `@name` mentions in a comment: the user names it names, each once.

use crate::accounts::username_key;

/// At most this many people are notified from one comment.
pub const MAX_MENTIONS: usize = 10;

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The names `@`-mentioned in `text`, in order, each once (by its key), at most
/// [`MAX_MENTIONS`]. A mention starts at an `@` that does not follow a name character (so an
/// e-mail address is none) and is a whole user name (3 to 32 of `[A-Za-z0-9_-]`).
pub fn mentioned(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        if c != '@' || (i > 0 && name_char(chars[i - 1].1)) {
            continue;
        }
        let start = at + 1;
        let end = text[start..].find(|c: char| !name_char(c)).map_or(text.len(), |n| start + n);
        let name = &text[start..end];
        if (3..=32).contains(&name.len()) && !out.iter().any(|n| username_key(n) == username_key(name)) {
            out.push(name.to_owned());
            if out.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_whole_names_once() {
        assert_eq!(mentioned("hi @alice and @Bob_2, @alice again"), ["alice", "Bob_2"]);
        assert_eq!(mentioned("mail me@example.com"), Vec::<String>::new());
        assert_eq!(mentioned("@ab too short, @abc ok, @@double"), ["abc", "double"]);
        assert_eq!(mentioned(&format!("@{}", "x".repeat(33))), Vec::<String>::new());
        assert_eq!(mentioned("（@carol）、@dave。"), ["carol", "dave"]);
        assert_eq!(mentioned("@ALICE @alice"), ["ALICE"]);
        let many: String = (0..20).map(|i| format!("@user{i:02} ")).collect();
        assert_eq!(mentioned(&many).len(), MAX_MENTIONS);
    }
}
