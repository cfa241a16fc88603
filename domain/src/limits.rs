//! Every limit on free text and lists Hearth accepts into its permanent log, in one place (the
//! README's "Limits" table lists them). Text is also refused when it holds control characters
//! (NUL and the like), and an error never repeats more than a short excerpt of the bad input.

use crate::error::DomainError;

/// Names (practice, staff, branch, client) and every other single-line client field.
pub const NAME_MAX: usize = 200;
/// RFC 5321's limit on a forward path.
pub const EMAIL_MAX: usize = 254;
/// The reason given for a command.
pub const REASON_MAX: usize = 1_000;
/// Goals of a Your Life survey, and the length of each.
pub const GOALS_MAX: usize = 50;
pub const GOAL_MAX: usize = 500;
/// Dimensions of a Your Life survey (each name is a [`NAME_MAX`] text).
pub const DIMENSIONS_MAX: usize = 50;
/// Answers of an investment-preferences questionnaire, and the length of a question or answer.
pub const ANSWERS_MAX: usize = 200;
pub const ANSWER_MAX: usize = 2_000;
/// Members in one values session (a household has a client and at most one partner).
pub const VALUES_MEMBERS_MAX: usize = 2;
/// An XPLAN id, a file-note subject, a document's file name or mime type.
pub const IDENTIFIER_MAX: usize = 200;
/// Licences bought at once (or held at creation): a typo guard, not a business cap.
pub const LICENCES_MAX: u32 = 100_000;
/// Characters of a rejected value repeated in an error message.
pub const EXCERPT_MAX: usize = 40;

/// Whether the text may span lines (a reason, a goal, an answer) or not (a name).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Lines {
    Single,
    Multi,
}

/// `value` trimmed, if it is at most `max` characters and holds no control character (line
/// breaks and tabs are allowed in multi-line text).
pub fn text<'a>(
    what: &str,
    value: &'a str,
    max: usize,
    lines: Lines,
) -> Result<&'a str, DomainError> {
    let v = value.trim();
    let count = v.chars().count();
    if count > max {
        return Err(DomainError::InvalidInput(format!(
            "{what} is {count} characters long; at most {max} are allowed"
        )));
    }
    let allowed = |c: char| lines == Lines::Multi && matches!(c, '\n' | '\r' | '\t');
    if v.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(DomainError::InvalidInput(format!(
            "{what} contains a control character"
        )));
    }
    Ok(v)
}

/// A list of at most `max` items.
pub fn list<T>(what: &str, items: &[T], max: usize) -> Result<(), DomainError> {
    if items.len() > max {
        return Err(DomainError::InvalidInput(format!(
            "{what} has {} items; at most {max} are allowed",
            items.len()
        )));
    }
    Ok(())
}

/// The optional reason of a command: within [`REASON_MAX`], no control characters but line breaks.
pub fn reason(reason: Option<&str>) -> Result<(), DomainError> {
    match reason {
        Some(r) => text("the reason", r, REASON_MAX, Lines::Multi).map(|_| ()),
        None => Ok(()),
    }
}

/// At most [`EXCERPT_MAX`] characters of `value`, quoted and with control characters escaped,
/// for an error message.
pub fn excerpt(value: &str) -> String {
    let mut out: String = value.chars().take(EXCERPT_MAX).collect();
    if value.chars().nth(EXCERPT_MAX).is_some() {
        out.push('…');
    }
    format!("{out:?}")
}

/// `message` with every [`excerpt`] in it replaced by "the value": for records that must not
/// hold personal values (an XPLAN run's summary), whatever rule wrote the message.
pub fn withhold_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        // An excerpt is Debug-quoted: it ends at the first quote not escaped.
        while let Some(q) = chars.next() {
            match q {
                '\\' => {
                    chars.next();
                }
                '"' => break,
                _ => {}
            }
        }
        out.push_str("the value");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withheld_messages_keep_their_words_and_lose_every_excerpt() {
        let secret = "ada \"the quokka\" lovelace@example.com";
        let message = format!(
            "email {} is not an e-mail address; was {}",
            excerpt(secret),
            excerpt("0400")
        );
        let withheld = withhold_values(&message);
        assert_eq!(
            withheld,
            "email the value is not an e-mail address; was the value"
        );
        assert_eq!(withhold_values("no values here"), "no values here");
        assert_eq!(withhold_values("cut \"short"), "cut the value");
    }

    #[test]
    fn an_excerpt_is_short_and_escaped() {
        let long = "x".repeat(1_000_000);
        assert!(excerpt(&long).chars().count() <= EXCERPT_MAX + 3);
        assert_eq!(excerpt("a\0b"), "\"a\\0b\"");
    }

    #[test]
    fn multi_line_text_keeps_line_breaks_but_not_nul() {
        assert!(text("r", "one\ntwo", 10, Lines::Multi).is_ok());
        assert!(text("r", "one\ntwo", 10, Lines::Single).is_err());
        assert!(text("r", "a\0b", 10, Lines::Multi).is_err());
    }
}
