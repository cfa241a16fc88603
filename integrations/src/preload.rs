//! XPLAN ID pre-load: a CSV of (first name, last name, email, XPLAN ID) links existing
//! household members to XPLAN clients by email before the first sync, so the sync finds them
//! instead of creating duplicates. Reported row by row; applied all at once or not at all.

use std::collections::HashMap;

use hearth_application::{BatchItem, ExecError};
use hearth_domain::{
    household::{HouseholdCommand, XplanLink},
    integration::IntegrationCommand,
    streams, CommandContext, HouseholdId, IntegrationId, MemberId, PracticeId,
};
use serde::Serialize;

use crate::{
    service::{IntegrationError, XplanService},
    sync::CLAIM_EVENT,
};

/// A household member the pre-load may link: the API finds them by email in the read model.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub household: HouseholdId,
    pub member: MemberId,
    pub xplan: Option<XplanLink>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RowOutcome {
    Linked {
        household_id: HouseholdId,
        member_id: MemberId,
    },
    AlreadyLinked {
        household_id: HouseholdId,
        member_id: MemberId,
    },
    NoMatch,
    SeveralMatches {
        count: usize,
    },
    ConflictingId {
        detail: String,
    },
    Malformed {
        reason: String,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct PreloadRow {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub xplan_id: String,
    #[serde(flatten)]
    pub outcome: RowOutcome,
}

#[derive(Clone, Debug, Serialize)]
pub struct PreloadReport {
    pub dry_run: bool,
    /// True when the links were written (never for a dry run).
    pub applied: bool,
    pub rows: Vec<PreloadRow>,
    pub linked: usize,
    pub already_linked: usize,
    pub not_linked: usize,
    /// The position the links were written at, for `at_least`.
    pub position: Option<String>,
}

/// Header names as people write them: case, spaces, underscores and hyphens do not matter.
fn header_key(h: &str) -> String {
    h.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

struct Columns {
    first: Option<usize>,
    last: Option<usize>,
    email: usize,
    xplan: usize,
}

fn columns(headers: &csv::StringRecord) -> Result<Columns, IntegrationError> {
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&header_key(h).as_str()))
    };
    let email = find(&["email", "emailaddress"]);
    let xplan = find(&["xplanid", "xplanclientid", "clientid", "entityid"]);
    match (email, xplan) {
        (Some(email), Some(xplan)) => Ok(Columns { first: find(&["firstname", "givenname"]), last: find(&["lastname", "surname", "familyname"]), email, xplan }),
        _ => Err(IntegrationError::BadRequest(
            "the CSV needs a header row with at least the columns \"Email\" and \"XPLAN ID\" (and usually \"First name\", \"Last name\")".into(),
        )),
    }
}

fn plausible_email(e: &str) -> bool {
    let mut parts = e.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
}

impl XplanService {
    /// Reads the CSV, decides each row against `index` (members by lower-case email), and —
    /// unless `dry_run` or no row can be linked — writes every link in one atomic append.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn preload(
        &self,
        practice: PracticeId,
        integration: IntegrationId,
        csv_bytes: &[u8],
        index: &HashMap<String, Vec<Candidate>>,
        dry_run: bool,
        ctx: &CommandContext,
    ) -> Result<PreloadReport, IntegrationError> {
        let state = self.state(integration).await?;
        if state.practice_id != Some(practice) {
            return Err(ExecError::Domain(hearth_domain::DomainError::IntegrationNotFound).into());
        }
        let bytes = csv_bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv_bytes);
        let text = std::str::from_utf8(bytes)
            .map_err(|_| IntegrationError::BadRequest("the CSV must be UTF-8 text".into()))?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| {
                IntegrationError::BadRequest(format!("the CSV header cannot be read: {e}"))
            })?
            .clone();
        let cols = columns(&headers)?;
        let mut rows = Vec::new();
        let mut ids_in_file: HashMap<String, usize> = HashMap::new();
        let mut members_in_file: HashMap<MemberId, usize> = HashMap::new();
        let mut items = Vec::new();
        for (n, record) in reader.records().enumerate() {
            let line = n + 2;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    rows.push(PreloadRow {
                        line,
                        first_name: String::new(),
                        last_name: String::new(),
                        email: String::new(),
                        xplan_id: String::new(),
                        outcome: RowOutcome::Malformed {
                            reason: e.to_string(),
                        },
                    });
                    continue;
                }
            };
            let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").to_string();
            let (first_name, last_name, email, xplan_id) = (
                get(cols.first),
                get(cols.last),
                get(Some(cols.email)),
                get(Some(cols.xplan)),
            );
            let outcome = if record.iter().all(str::is_empty) {
                continue;
            } else if !plausible_email(&email) {
                RowOutcome::Malformed {
                    reason: format!("{email:?} is not an email address"),
                }
            } else if xplan_id.is_empty()
                || xplan_id.len() > 64
                || !xplan_id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                RowOutcome::Malformed {
                    reason: format!("{xplan_id:?} is not an XPLAN ID"),
                }
            } else if let Some(first) = ids_in_file.get(&xplan_id) {
                RowOutcome::ConflictingId {
                    detail: format!("XPLAN ID {xplan_id} is also on line {first}"),
                }
            } else {
                ids_in_file.insert(xplan_id.clone(), line);
                self.row_outcome(
                    integration,
                    &email,
                    &xplan_id,
                    index,
                    line,
                    &mut members_in_file,
                )
                .await?
            };
            if let RowOutcome::Linked {
                household_id,
                member_id,
            } = &outcome
            {
                items.push(BatchItem {
                    household: *household_id,
                    command: HouseholdCommand::LinkXplanId {
                        integration_id: integration,
                        member_id: *member_id,
                        xplan_id: xplan_id.clone(),
                    },
                    ctx: ctx.clone(),
                    guard: Some((
                        streams::xplan_client(integration, &xplan_id),
                        CLAIM_EVENT.to_string(),
                    )),
                });
            }
            rows.push(PreloadRow {
                line,
                first_name,
                last_name,
                email,
                xplan_id,
                outcome,
            });
        }
        let count = |f: fn(&RowOutcome) -> bool| rows.iter().filter(|r| f(&r.outcome)).count();
        let linked = count(|o| matches!(o, RowOutcome::Linked { .. }));
        let already_linked = count(|o| matches!(o, RowOutcome::AlreadyLinked { .. }));
        let mut report = PreloadReport {
            dry_run,
            applied: false,
            linked,
            already_linked,
            not_linked: rows.len() - linked - already_linked,
            rows,
            position: None,
        };
        if dry_run || items.is_empty() {
            return Ok(report);
        }
        let done = self.exec.household_batch(practice, &items).await?;
        let command = IntegrationCommand::RecordIdPreload {
            rows: report.rows.len(),
            linked,
        };
        self.command(practice, integration, command, ctx).await?;
        report.applied = true;
        report.position = done.position.map(|p| p.to_string());
        Ok(report)
    }

    async fn row_outcome(
        &self,
        integration: IntegrationId,
        email: &str,
        xplan_id: &str,
        index: &HashMap<String, Vec<Candidate>>,
        line: usize,
        members_in_file: &mut HashMap<MemberId, usize>,
    ) -> Result<RowOutcome, IntegrationError> {
        let matches = index
            .get(&email.to_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let m = match matches {
            [] => return Ok(RowOutcome::NoMatch),
            [m] => m,
            several => {
                return Ok(RowOutcome::SeveralMatches {
                    count: several.len(),
                })
            }
        };
        match &m.xplan {
            Some(link) if link.integration_id == integration && link.xplan_id == xplan_id => {
                return Ok(RowOutcome::AlreadyLinked {
                    household_id: m.household,
                    member_id: m.member,
                })
            }
            Some(link) if link.integration_id == integration => {
                return Ok(RowOutcome::ConflictingId {
                    detail: format!(
                        "this client is already linked to XPLAN ID {}",
                        link.xplan_id
                    ),
                })
            }
            _ => {}
        }
        if let Some(first) = members_in_file.insert(m.member, line) {
            return Ok(RowOutcome::ConflictingId {
                detail: format!("this client is also linked on line {first}"),
            });
        }
        let claim =
            crate::claims::claimed_household(self.exec.store(), integration, xplan_id).await?;
        if claim.is_some() {
            return Ok(RowOutcome::ConflictingId {
                detail: format!("XPLAN ID {xplan_id} already belongs to another household"),
            });
        }
        Ok(RowOutcome::Linked {
            household_id: m.household,
            member_id: m.member,
        })
    }
}
