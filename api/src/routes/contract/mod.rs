//! The error half of the OpenAPI contract, written once: every operation documents the problem
//! answers its kind of request can get (RFC 7807, `application/problem+json`), derived from its
//! shape — a body, path ids, a query, a bearer token, a command — instead of being repeated by
//! hand on each handler, where one would be forgotten.

use utoipa::{
    openapi::{
        path::{HttpMethod, Operation, ParameterIn},
        RefOr, Response, ResponseBuilder,
    },
    Modify,
};

mod field_rules;

pub use field_rules::{member_fields, FieldRules};
use field_rules::{position, text_schema};

pub struct ProblemResponses;

const PROBLEM: &str = "application/problem+json";

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ];
            for (method, op) in operations {
                if let Some(op) = op {
                    complete(path, method, op);
                }
            }
        }
    }
}

/// The statuses an operation of this shape can answer besides its successes.
pub fn problem_statuses(
    path: &str,
    method: &HttpMethod,
    has_body: bool,
    has_query: bool,
    secured: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let ids = path.contains('{');
    let changes = !matches!(method, HttpMethod::Get);
    if has_body || ids || has_query {
        out.push((
            "400",
            "The request is malformed: a path id, query parameter or body that cannot be read.",
        ));
    }
    if secured {
        out.push(("401", "No valid bearer token."));
        out.push((
            "403",
            "The caller may not do this (role, permission, or another practice's operator route).",
        ));
    }
    if ids {
        out.push((
            "404",
            "No such practice, household, staff member or integration that the caller may see.",
        ));
    }
    if changes && secured {
        out.push(("409", "The rules refuse the change (e.g. the last primary, licences exhausted), or it conflicts with a concurrent one."));
    }
    if has_body {
        out.push(("413", "The body is over the documented limit."));
        out.push(("415", "The body is not of the documented content type."));
        out.push((
            "422",
            "The body is well-formed but a value is out of range or unknown.",
        ));
    }
    if path.starts_with("/v1/") {
        out.push(("503", "The database is unreachable, or the read model has not caught up with `at_least` in time; retry after `Retry-After`."));
    }
    out
}

fn complete(path: &str, method: HttpMethod, op: &mut Operation) {
    let has_body = op.request_body.is_some();
    let has_query = op
        .parameters
        .as_ref()
        .is_some_and(|ps| ps.iter().any(|p| p.parameter_in == ParameterIn::Query));
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let waits = op
        .parameters
        .as_ref()
        .is_some_and(|ps| ps.iter().any(|p| p.name == "at_least"));
    // Bodies documented as optional (a reason and nothing else) may be left out.
    if let Some(body) = op.request_body.as_mut() {
        if body.description.as_deref() == Some("optional") {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
    // Responses a handler already names keep their description, but a problem is always
    // problem+json, never plain JSON.
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(r) = response {
            if let Some(json) = r.content.shift_remove("application/json") {
                let is_problem = serde_json::to_string(&json)
                    .is_ok_and(|s| s.contains("#/components/schemas/Problem"));
                let key = if is_problem {
                    PROBLEM
                } else {
                    "application/json"
                };
                r.content.insert(key.to_string(), json);
            }
        }
    }
    for parameter in op.parameters.iter_mut().flatten() {
        if parameter.name == "at_least" {
            parameter.schema = Some(text_schema(position(), 18, false).into());
        }
    }
    let mut statuses = problem_statuses(path, &method, has_body, has_query, secured);
    if waits {
        statuses.push(("409", "`at_least` names a position the log does not hold."));
    }
    for (status, description) in statuses {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(problem(description)));
    }
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM,
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}
