//! Every CSV Hearth writes goes through here, so no cell can be read as a formula by the
//! spreadsheet that opens it (OWASP "CSV injection": a cell starting with `=`, `+`, `-`, `@`,
//! tab or carriage return is prefixed with a single quote).

use std::borrow::Cow;

/// The cell as written: a leading formula trigger is defused with `'`.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// A CSV document written in memory, every cell neutralised.
pub struct CsvOut {
    writer: csv::Writer<Vec<u8>>,
}

impl Default for CsvOut {
    fn default() -> Self {
        Self {
            writer: csv::Writer::from_writer(Vec::new()),
        }
    }
}

impl CsvOut {
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<(), csv::Error> {
        self.writer
            .write_record(cells.iter().map(|c| neutralise(c.as_ref()).into_owned()))
    }

    pub fn into_bytes(self) -> Result<Vec<u8>, String> {
        self.writer.into_inner().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_starting_with_a_formula_trigger_are_prefixed_with_a_quote() {
        for raw in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(raw), format!("'{raw}"), "{raw:?}");
        }
    }

    #[test]
    fn ordinary_cells_are_written_as_they_are() {
        for raw in ["Jane", "", "a=b", "O'Brien", "2026-11-24"] {
            assert_eq!(neutralise(raw), raw);
        }
    }

    #[test]
    fn a_written_row_holds_the_neutralised_cells() {
        let mut out = CsvOut::default();
        out.row(&["=1+1", "Jane"]).unwrap();
        assert_eq!(
            String::from_utf8(out.into_bytes().unwrap()).unwrap(),
            "'=1+1,Jane\n"
        );
    }
}
