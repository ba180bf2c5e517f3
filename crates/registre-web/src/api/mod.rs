//! The REST API under `/api/v1`, documented by the OpenAPI document it is built with.
pub mod audit_form;
mod breaches;
mod catalogue;
mod consents;
mod ledger;
pub mod limits;
mod requests;

pub(crate) use requests::stream_json;
mod processors;
mod records;
mod system;
mod webhooks;

use crate::state::AppState;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "Registre API", description = "GDPR registers: organisation, purposes, touchpoints, consents, requests, processors, breaches."),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from `registre api-key create`"))
                    .build(),
            ),
        );
    }
}

/// Every API route with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(system::router())
        .merge(catalogue::router())
        .merge(consents::router())
        .merge(
            audit_form::router().layer(axum::extract::DefaultBodyLimit::max(
                audit_form::MAX_PAGE + 1,
            )),
        )
        .merge(ledger::router())
        .merge(webhooks::router())
        .merge(requests::router())
        .merge(processors::router())
        .merge(breaches::router())
        .merge(records::router())
}

/// Documents, on every operation of `openapi`, the refusals any request may get besides the
/// ones its route lists, all in the JSON error shape: 400 (malformed query or JSON), 401 and
/// 403 (key; not on the routes that need none), 429 (rate limits), 404 (an unknown id in the
/// path), with a body 413 (too large) and 415 (wrong `Content-Type`), and with a body or a
/// query 422 (input of the wrong shape or breaking a rule).
pub fn document_refusals(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let refusal = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let needs_no_key = operation
                .security
                .as_ref()
                .is_some_and(|security| security.iter().all(|s| s == &Default::default()));
            let in_path = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| p.parameter_in == ParameterIn::Path);
            let mut statuses = vec![
                ("400", "Malformed request"),
                ("429", "Too many requests (Retry-After)"),
            ];
            if !needs_no_key {
                statuses.push(("401", "No valid API key"));
                statuses.push(("403", "The key's role lacks the permission"));
            }
            if in_path {
                statuses.push(("404", "Not found"));
            }
            let in_query = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| p.parameter_in == ParameterIn::Query);
            if operation.request_body.is_some() {
                statuses.push(("413", "Body too large"));
                statuses.push(("415", "Wrong Content-Type"));
            }
            if operation.request_body.is_some() || in_query {
                statuses.push(("422", "Input of the wrong shape or breaking a rule"));
            }
            for (status, description) in statuses {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| refusal(description));
            }
        }
    }
}

/// A list response: `{"items": [...], "next_cursor": null | "..."}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::Value;

    /// Every `$ref` in `value`, with where it was found.
    fn references<'a>(value: &'a Value, at: &str, found: &mut Vec<(String, &'a str)>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if key == "$ref"
                        && let Value::String(target) = inner
                    {
                        found.push((at.to_string(), target));
                    }
                    references(inner, &format!("{at}/{key}"), found);
                }
            }
            Value::Array(items) => {
                for (index, inner) in items.iter().enumerate() {
                    references(inner, &format!("{at}/{index}"), found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_reference_of_the_openapi_document_resolves() {
        let (_, mut openapi) = super::router().split_for_parts();
        super::document_refusals(&mut openapi);
        let document = serde_json::to_value(&openapi).unwrap();
        let mut found = Vec::new();
        references(&document, "#", &mut found);
        assert!(!found.is_empty());
        for (at, target) in found {
            let pointer = target.strip_prefix('#').unwrap_or(target);
            assert!(
                document.pointer(pointer).is_some(),
                "{at}: {target} does not resolve"
            );
        }
    }
}
