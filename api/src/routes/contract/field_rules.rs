//! The rules of the domain's limits and field checks, spelled as JSON Schema so generated
//! clients (and fuzzers) know exactly what the server takes.

use utoipa::{openapi::RefOr, Modify};

/// The rules of the domain's limits module, spelled as JSON Schema for every request property
/// of that name, so generated clients (and fuzzers) know them: one table, not an attribute on
/// each struct that one would forget.
pub struct FieldRules;

/// No control characters (Rust's `char::is_control`: C0, DEL and C1).
const SINGLE_LINE: &str = r"\u0000-\u001F\u007F-\u009F";
const MULTI_LINE: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";

fn printable(controls: &str) -> String {
    format!("^[^{controls}]*$")
}

/// Printable, and something besides white space.
fn non_blank() -> String {
    format!("^[^{SINGLE_LINE}]*[^\\s{SINGLE_LINE}][^{SINGLE_LINE}]*$")
}

/// As [`non_blank`], over several lines.
fn non_blank_multi() -> String {
    format!("^[^{MULTI_LINE}]*[^\\s{MULTI_LINE}][^{MULTI_LINE}]*$")
}

enum Rule {
    Text {
        pattern: String,
        max: usize,
    },
    List {
        min: usize,
        max: usize,
        /// The rule of each item, when the items are texts.
        item: Option<(String, usize)>,
    },
}

/// `validate::email`: something@something.tld with no white space or control character;
/// surrounding white space is trimmed.
fn email() -> String {
    let c = format!("[^\\s@{SINGLE_LINE}]");
    let d = format!("[^\\s{SINGLE_LINE}]");
    let d_no_dot = format!("[^\\s.{SINGLE_LINE}]");
    format!("^\\s*{c}+@{d_no_dot}{d}*\\.{d}*{d_no_dot}\\s*$")
}

/// `integration::forward_host` under the default site suffixes: host names only (labels of
/// letters, digits and inner hyphens), an optional port 1–65535, an optional trailing slash.
fn forward_host() -> String {
    let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    let suffixes: Vec<String> = hearth_domain::integration::DEFAULT_SITE_SUFFIXES
        .iter()
        .map(|s| s.replace('.', "\\."))
        .collect();
    let port = "(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?";
    format!("^\\s*({label}\\.)+({}){port}/*\\s*$", suffixes.join("|"))
}

/// White space the server trims around a value (spelled out: a regex `\s` takes more).
const TRIMMED: &str = "[ \\t\\n\\r]*";

/// A position a command answered (`consistency::wait_for_position`): a positive whole number.
pub(super) fn position() -> String {
    "^[1-9][0-9]{0,17}$".into()
}

/// `xplan::ALLOWED_TITLES`, in any case, with any trailing full stops; blank means none.
fn title() -> String {
    let any_case = |t: &str| -> String {
        t.chars()
            .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()))
            .collect()
    };
    let titles: Vec<String> = hearth_domain::household::ALLOWED_TITLES
        .iter()
        .map(|t| any_case(t))
        .collect();
    format!("^{TRIMMED}(({})\\.*)?{TRIMMED}$", titles.join("|"))
}

/// `xplan::international_mobile`: `+`, then 8 to 15 digits among spaces, hyphens and brackets.
fn mobile() -> String {
    format!("^{TRIMMED}(\\+[ ()-]*([0-9][ ()-]*){{8,15}})?{TRIMMED}$")
}

/// A calendar date (RFC 3339 full-date, which the server checks the same way), or blank.
fn date_or_blank() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let date = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)));
    AnyOfBuilder::new()
        .item(date)
        .item(text_schema(
            format!("^{TRIMMED}$"),
            hearth_domain::limits::NAME_MAX,
            false,
        ))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

pub(super) fn text_schema(
    pattern: String,
    max: usize,
    nullable: bool,
) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let ty = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .pattern(Some(pattern))
        .max_length(Some(max))
        .into()
}

/// The `fields` of a member edit: each field by name with the rule `field_rules::check` applies
/// (`null` or blank clears a field, except the required names).
pub fn member_fields() -> utoipa::openapi::schema::Schema {
    use hearth_domain::{household::ClientField::*, limits::*};
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder};
    let mut object = ObjectBuilder::new()
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .description(Some(
            "Field name → new value (`null` or blank clears it, except first and last name). XPLAN-mastered fields are overwritten at the next sync.",
        ));
    let blank_or = |p: String| p.replacen('^', &format!("^{TRIMMED}$|^"), 1);
    for field in hearth_domain::household::ClientField::SYNCED {
        let name = serde_json::to_value(field)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let schema = match field {
            FirstName | LastName => text_schema(non_blank(), NAME_MAX, false),
            Email | AdviserEmail => text_schema(blank_or(email()), EMAIL_MAX, true),
            DateOfBirth => date_or_blank(),
            Title => text_schema(title(), NAME_MAX, true),
            Mobile => text_schema(mobile(), NAME_MAX, true),
            MiddleName | Sex | AddressLine1 | AddressLine2 | Suburb | Postcode | State
            | CountryCode | AdviserFirstName | AdviserLastName => {
                text_schema(blank_or(printable(SINGLE_LINE)), NAME_MAX, true)
            }
        };
        object = object.property(name, schema);
    }
    object.into()
}

fn rule(property: &str) -> Option<Rule> {
    use hearth_domain::limits::*;
    let text = |pattern: String, max: usize| Some(Rule::Text { pattern, max });
    match property {
        "name" | "first_name" | "last_name" | "question" => text(non_blank(), NAME_MAX),
        "reason" => text(printable(MULTI_LINE), REASON_MAX),
        "email" => text(email(), EMAIL_MAX),
        "forward_host" => text(forward_host(), 260),
        "url" => text(
            format!("^\\s*[Hh][Tt][Tt][Pp][Ss]?://[^\\s{SINGLE_LINE}]+\\s*$"),
            hearth_domain::webhook::MAX_URL,
        ),
        "goals" => Some(Rule::List {
            min: 0,
            max: GOALS_MAX,
            item: Some((non_blank_multi(), GOAL_MAX)),
        }),
        "dimensions" => Some(Rule::List {
            min: 0,
            max: DIMENSIONS_MAX,
            item: None,
        }),
        "answers" => Some(Rule::List {
            min: 1,
            max: ANSWERS_MAX,
            item: None,
        }),
        "top_values" => Some(Rule::List {
            min: 1,
            max: 5,
            item: Some((non_blank(), NAME_MAX)),
        }),
        "values" => Some(Rule::List {
            min: 1,
            max: VALUES_MEMBERS_MAX,
            item: None,
        }),
        _ => None,
    }
}

impl Modify for FieldRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::Schema;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for schema in components.schemas.values_mut() {
            let RefOr::T(Schema::Object(object)) = schema else {
                continue;
            };
            // A person's title, not a problem's: only where a first name sits beside it.
            let person = object.properties.contains_key("first_name");
            // A reason that must be given must say something (an erasure's).
            let reason_required = object.required.iter().any(|r| r == "reason");
            for (name, property) in object.properties.iter_mut() {
                let RefOr::T(property) = property else {
                    continue;
                };
                let rule = match name.as_str() {
                    "title" if person => Some(Rule::Text {
                        pattern: title(),
                        max: hearth_domain::limits::NAME_MAX,
                    }),
                    "reason" if reason_required => Some(Rule::Text {
                        pattern: non_blank_multi(),
                        max: hearth_domain::limits::REASON_MAX,
                    }),
                    _ => rule(name),
                };
                match (rule, property) {
                    (Some(Rule::Text { pattern, max }), Schema::Object(p)) => {
                        p.pattern = Some(pattern);
                        p.max_length = Some(max);
                    }
                    (Some(Rule::List { min, max, item }), Schema::Array(a)) => {
                        a.min_items = Some(min);
                        a.max_items = Some(max);
                        if let (
                            Some((pattern, max)),
                            utoipa::openapi::schema::ArrayItems::RefOrSchema(items),
                        ) = (item, &mut a.items)
                        {
                            if let RefOr::T(Schema::Object(o)) = items.as_mut() {
                                o.pattern = Some(pattern);
                                o.max_length = Some(max);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
