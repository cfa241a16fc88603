//! The access report for auditors: who had access to which households between two instants, as
//! JSON, CSV and PDF. Needs "export roster", like the roster.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use hearth_domain::{permissions::Permission, PracticeId};
use hearth_projections::AccessReport;
use printpdf::{BuiltinFont, Mm, PdfDocument};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::Caller,
    authz::{require_permission, staff_of},
    consistency::wait_for_position,
    extract::{Path, Query},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(report_csv))
        .routes(routes!(report_pdf))
}

#[derive(Deserialize, IntoParams, Clone)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// Start of the period (RFC 3339).
    pub from: DateTime<Utc>,
    /// End of the period (RFC 3339); not before `from`.
    pub to: DateTime<Utc>,
    /// A position returned by a command: answer only once its effect is visible.
    #[serde(default)]
    pub at_least: Option<String>,
}

pub(crate) async fn load(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
    q: &ReportParams,
) -> ApiResult<AccessReport> {
    wait_for_position(state, q.at_least.as_deref()).await?;
    let me = staff_of(state, caller, practice).await?;
    require_permission(state, practice, me, Permission::ExportRoster)?;
    if q.to < q.from {
        return Err(Problem::bad_request(
            "invalid_period",
            "the period's end is before its start",
        ));
    }
    Ok(state
        .projection
        .read()
        .access_report(practice, q.from, q.to)?)
}

/// Who held which household (primary, secondary or a role) at any moment between `from` and `to`,
/// with who granted and ended each holding and why. Needs "export roster".
#[utoipa::path(get, path = "/v1/practices/{practice_id}/reports/access", params(ReportParams), responses((status = 200, body = Object), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Query(q): Query<ReportParams>,
) -> ApiResult<axum::Json<AccessReport>> {
    Ok(axum::Json(load(&state, caller, PracticeId(p), &q).await?))
}

fn holding_name(h: hearth_domain::roles::Holding) -> String {
    serde_json::to_value(h)
        .ok()
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Object(o) => o
                .values()
                .next()
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

pub(crate) fn csv_of(report: &AccessReport) -> Result<Vec<u8>, Problem> {
    // Through the one CSV writer, so a name or reason cannot become a spreadsheet formula.
    let mut out = crate::csv_out::CsvOut::default();
    out.row(&[
        "household_id",
        "household",
        "staff_id",
        "staff",
        "holding",
        "from",
        "to",
        "granted_by",
        "revoked_by",
        "reason",
        "end_reason",
    ])
    .map_err(|e| Problem::internal(&e))?;
    for r in &report.rows {
        out.row(&[
            r.household_id.to_string(),
            r.household.clone(),
            r.staff_id.to_string(),
            r.staff.clone(),
            holding_name(r.holding),
            r.from.to_rfc3339(),
            r.to.map(|t| t.to_rfc3339()).unwrap_or_default(),
            r.granted_by.to_string(),
            r.revoked_by
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            r.reason.as_deref().unwrap_or_default().to_owned(),
            r.end_reason.as_deref().unwrap_or_default().to_owned(),
        ])
        .map_err(|e| Problem::internal(&e))?;
    }
    out.into_bytes().map_err(|e| Problem::internal(&e))
}

pub(crate) fn pdf_of(report: &AccessReport) -> Result<Vec<u8>, Problem> {
    let title = "Household access report";
    let (doc, page, layer) = PdfDocument::new(title, Mm(297.0), Mm(210.0), "content");
    let doc = doc.with_creator("Hearth");
    let font = doc
        .add_builtin_font(BuiltinFont::Helvetica)
        .map_err(|e| Problem::internal(&e))?;
    let bold = doc
        .add_builtin_font(BuiltinFont::HelveticaBold)
        .map_err(|e| Problem::internal(&e))?;
    let mut layer = doc.get_page(page).get_layer(layer);
    layer.use_text(title, 16.0, Mm(15.0), Mm(195.0), &bold);
    layer.use_text(
        format!(
            "Period: {} to {} ({} holdings)",
            report.from.to_rfc3339(),
            report.to.to_rfc3339(),
            report.rows.len()
        ),
        10.0,
        Mm(15.0),
        Mm(187.0),
        &font,
    );
    let mut y = 178.0;
    for r in &report.rows {
        if y < 15.0 {
            let (p, l) = doc.add_page(Mm(297.0), Mm(210.0), "content");
            layer = doc.get_page(p).get_layer(l);
            y = 195.0;
        }
        let line = format!(
            "{}  |  {}  |  {}  |  {} to {}  |  {}",
            r.household,
            r.staff,
            holding_name(r.holding),
            r.from.format("%Y-%m-%d %H:%M"),
            r.to.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "now".into()),
            r.end_reason
                .as_deref()
                .or(r.reason.as_deref())
                .unwrap_or("")
        );
        layer.use_text(line, 9.0, Mm(15.0), Mm(y), &font);
        y -= 6.0;
    }
    doc.save_to_bytes().map_err(|e| Problem::internal(&e))
}

pub(crate) fn download(content_type: &str, filename: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The access report as CSV, one holding a row.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/reports/access.csv", params(ReportParams), responses((status = 200, content_type = "text/csv", body = String)), security(("bearer" = [])))]
async fn report_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Query(q): Query<ReportParams>,
) -> ApiResult<Response> {
    let report = load(&state, caller, PracticeId(p), &q).await?;
    Ok(download(
        "text/csv; charset=utf-8",
        "access-report.csv",
        csv_of(&report)?,
    ))
}

/// The access report as a PDF for the compliance file.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/reports/access.pdf", params(ReportParams), responses((status = 200, content_type = "application/pdf", body = String)), security(("bearer" = [])))]
async fn report_pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Query(q): Query<ReportParams>,
) -> ApiResult<Response> {
    let report = load(&state, caller, PracticeId(p), &q).await?;
    Ok(download(
        "application/pdf",
        "access-report.pdf",
        pdf_of(&report)?,
    ))
}
