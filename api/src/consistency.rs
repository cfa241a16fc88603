//! Read-your-writes. Commands return the position they were written at; a read given
//! `at_least=<position>` answers only once the read model has applied that position — also when
//! the write went through another instance on the same database.

use hearth_eventstore::Cursor;

use crate::{problem::Problem, state::AppState};

pub async fn wait_for_position(state: &AppState, at_least: Option<&str>) -> Result<(), Problem> {
    let Some(raw) = at_least else { return Ok(()) };
    // Exactly as a command wrote it (the contract's pattern): no padding, so never 0.
    let position = parse_position(raw)
        .filter(|_| !raw.starts_with('0'))
        .ok_or_else(|| {
            Problem::bad_request(
                "invalid_position",
                "at_least must be a position returned by a command",
            )
        })?;
    let cursor = state.store.cursor_of(position).await?;
    wait_for_cursor(state, cursor.ok_or_else(|| unknown_position(position))?).await
}

/// A log position as text: 1 to 18 ASCII digits, no sign (so it always fits an `i64`).
pub fn parse_position(raw: &str) -> Option<i64> {
    let shaped = (1..=18).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit());
    shaped.then(|| raw.parse().ok()).flatten()
}

/// A well-formed position the log does not hold conflicts with the log's state (409); it is not
/// "not found", which would read as the household or practice being absent.
pub fn unknown_position(position: i64) -> Problem {
    Problem::conflict(
        "unknown_position",
        format!("no event was written at position {position}"),
    )
}

pub async fn wait_for_cursor(state: &AppState, cursor: Cursor) -> Result<(), Problem> {
    state
        .projection
        .wait_for(cursor, state.read_wait)
        .await
        .map_err(|lag| {
            Problem::unavailable(
                "projection_lagging",
                format!("the read model has not caught up yet ({lag}); retry shortly"),
            )
            .with_retry_after(1)
        })
}

/// Before answering "not found" for something that may have just been written through another
/// path, let the read model catch up with the log's head (bounded).
pub async fn catch_up(state: &AppState) -> Result<(), Problem> {
    let head = state.store.committed_head().await?;
    wait_for_cursor(state, head).await
}

#[cfg(test)]
mod tests {
    use super::parse_position;

    #[test]
    fn a_position_is_one_to_eighteen_ascii_digits() {
        assert_eq!(parse_position("42"), Some(42));
        assert_eq!(parse_position("0"), Some(0));
        assert_eq!(
            parse_position("007"),
            Some(7),
            "padding is the caller's rule"
        );
        assert_eq!(
            parse_position("999999999999999999"),
            Some(999_999_999_999_999_999)
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1.5",
            " 1",
            "1a",
            "٣",
            "9999999999999999999",
        ] {
            assert_eq!(parse_position(bad), None, "{bad:?}");
        }
    }
}
