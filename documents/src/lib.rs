#![forbid(unsafe_code)]
//! The documents Hearth generates for XPLAN: the Best Life Plan and the investment-preferences
//! export, as small real PDFs (printpdf). The plan names the household's primary professional
//! as its adviser (seed: lumiant-manage-household-access).

use printpdf::{BuiltinFont, Mm, PdfDocument};

/// `author` goes into the document information too, where software (and tests) can read it.
fn pdf(title: &str, author: &str, lines: &[String]) -> Result<Vec<u8>, String> {
    let (doc, page, layer) = PdfDocument::new(title, Mm(210.0), Mm(297.0), "content");
    let doc = doc.with_author(author).with_creator("Hearth");
    let font = doc
        .add_builtin_font(BuiltinFont::Helvetica)
        .map_err(|e| e.to_string())?;
    let bold = doc
        .add_builtin_font(BuiltinFont::HelveticaBold)
        .map_err(|e| e.to_string())?;
    let layer = doc.get_page(page).get_layer(layer);
    layer.use_text(title, 20.0, Mm(20.0), Mm(270.0), &bold);
    let mut y = 255.0;
    for line in lines {
        if y < 20.0 {
            break;
        }
        layer.use_text(line.as_str(), 11.0, Mm(20.0), Mm(y), &font);
        y -= 7.0;
    }
    doc.save_to_bytes().map_err(|e| e.to_string())
}

pub fn best_life_plan(
    household: &str,
    adviser: &str,
    date: chrono::NaiveDate,
    goals: &[String],
) -> Result<Vec<u8>, String> {
    let mut lines = vec![
        format!("Prepared for: {household}"),
        format!("Adviser: {adviser}"),
        format!("Date: {date}"),
        String::new(),
    ];
    if !goals.is_empty() {
        lines.push("Goals:".into());
        lines.extend(goals.iter().map(|g| format!("  - {g}")));
    }
    pdf("Best Life Plan", adviser, &lines)
}

pub fn investment_preferences(
    household: &str,
    date: chrono::NaiveDate,
    answers: &[(String, String)],
) -> Result<Vec<u8>, String> {
    let mut lines = vec![
        format!("Client: {household}"),
        format!("Date: {date}"),
        String::new(),
    ];
    for (q, a) in answers {
        lines.push(format!("Q: {q}"));
        lines.push(format!("A: {a}"));
    }
    pdf("Investment Preferences", "Hearth", &lines)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_plan_is_a_pdf_naming_its_adviser() {
        let bytes = super::best_life_plan(
            "Jane Citizen",
            "Ada Adviser",
            chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            &["Retire at 60".into()],
        )
        .unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "a PDF");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("Ada Adviser"),
            "the adviser is printed on the plan"
        );
    }
}
