//! The OpenAPI document. It is assembled from the same router that serves the API (each
//! resource file registers its handlers with `routes!`, which reads their
//! `#[utoipa::path]`), and its schemas are derived from the wire types, so it cannot drift
//! from what the server does. `GET /openapi.json` serves it, `consoled openapi` prints it,
//! and `docs/openapi.json` is the committed copy a test compares with.
//!
//! What every operation shares is added here once, after assembly: the security schemes,
//! the 401 and 503 answers of bearer-token operations, the 413/415 answers of JSON bodies,
//! and the `ApiError` body on every error answer that does not name another.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response as ApiResponse, ResponseBuilder};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::schema::tags;
use super::AppState;

/// The security scheme of Console API tokens (`Authorization: Bearer <jwt>`).
pub const BEARER: &str = "bearer";
/// The security scheme of monitoring clients on the metrics endpoint.
pub const BASIC: &str = "basic";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Camunda Management API (consoled)",
        version = "1.3.3",
        description = "Manage Camunda clusters and API clients via API: the Camunda 8 Console \
            (Management) API 1.3.3 as served by consoled, plus the operations the JS SDK's \
            `AdminApiClient` uses beyond 1.3.3 and consoled's own token issuer, health and \
            metrics endpoints.\n\nGet a token from `POST /oauth/token` (client credentials) \
            and send it as `Authorization: Bearer <token>`. The scopes an operation needs \
            are listed in its security requirement. Every error answer is \
            `{\"status\", \"error\", \"message\"}` (`ApiError`), except the token \
            endpoint's, which follow RFC 6749.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = tags::CLUSTERS, description = "Clusters: create, read, update, delete, upgrade and wake"),
        (name = tags::CLIENTS, description = "API clients of a cluster (Zeebe clients)"),
        (name = tags::IP_ALLOWLIST, description = "A cluster's IP allowlist"),
        (name = tags::SECRETS, description = "A cluster's connector secrets"),
        (name = tags::BACKUPS, description = "A cluster's backups"),
        (name = tags::MONITORING, description = "Bring your own monitoring: metrics endpoint credentials (not in 1.3.3; the JS SDK uses it)"),
        (name = tags::SECURE_CONNECTIVITY, description = "A private endpoint for a cluster (not in 1.3.3; the JS SDK uses it)"),
        (name = tags::MEMBERS, description = "Members of the organization"),
        (name = tags::ACTIVITY, description = "The organization's audit trail"),
        (name = tags::META, description = "Facts about the service"),
        (name = tags::OAUTH, description = "The token issuer (consoled's own; the hosted service has a separate one)"),
        (name = tags::OPERATIONS, description = "Health, readiness, this document and the docs page"),
    ),
)]
struct ApiDoc;

/// Every route of the server, with its documentation: the one list both come from.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(super::oauth::routes())
        .merge(super::health::routes())
        .merge(super::parameters::routes())
        .merge(super::clusters::routes())
        .merge(super::cluster_update::routes())
        .merge(super::lifecycle::routes())
        .merge(super::clients::routes())
        .merge(super::ip_allowlist::routes())
        .merge(super::secrets::routes())
        .merge(super::backups::routes())
        .merge(super::monitoring::routes())
        .merge(super::metrics::routes())
        .merge(super::secure_connectivity::routes())
        .merge(super::members::routes())
        .merge(super::activity::routes())
        .merge(super::meta::routes())
        .merge(super::docs::routes())
        .routes(routes!(openapi_json))
}

/// The finished document.
pub fn document() -> Document {
    let (_, mut doc) = api_router().split_for_parts();
    finish(&mut doc);
    doc
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut json =
            serde_json::to_string_pretty(&document()).expect("the OpenAPI document serializes");
        json.push('\n');
        json
    })
}

/// This document (OpenAPI 3.1, JSON).
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "GetOpenApiDocument",
    tag = tags::OPERATIONS,
    responses((status = 200, description = "The OpenAPI document of this server",
        content_type = "application/json", body = Object)),
)]
async fn openapi_json() -> Response {
    let mut response = document_json().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn finish(doc: &mut Document) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        BEARER.into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A Console API token from `POST /oauth/token` (client credentials grant)",
                ))
                .build(),
        )),
    );
    components.security_schemes.insert(
        BASIC.into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Basic)
                .description(Some("The username and password of a monitoring client"))
                .build(),
        )),
    );
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            complete_operation(operation);
        }
    }
}

fn uses_scheme(operation: &Operation, scheme: &str) -> bool {
    operation.security.as_ref().is_some_and(|requirements| {
        requirements.iter().any(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.contains_key(scheme)))
                .unwrap_or(false)
        })
    })
}

fn has_json_body(operation: &Operation) -> bool {
    matches!(&operation.request_body, Some(RefOr::T(body))
        if body.content.contains_key("application/json"))
}

fn has_path_parameters(operation: &Operation) -> bool {
    operation.parameters.as_ref().is_some_and(|parameters| {
        parameters
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path))
    })
}

fn complete_operation(operation: &mut Operation) {
    let bearer = uses_scheme(operation, BEARER);
    let basic = uses_scheme(operation, BASIC);
    let json_body = has_json_body(operation);
    let path_parameters = has_path_parameters(operation);
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, response: ApiResponse| {
        responses
            .entry(status.to_string())
            .or_insert(RefOr::T(response));
    };
    if bearer {
        add(
            "401",
            ResponseBuilder::new()
                .description(
                    "The bearer token is missing, invalid or expired, or its client was \
                     deleted or rotated",
                )
                .header("WWW-Authenticate", HeaderBuilder::new().build())
                .build(),
        );
    }
    if bearer || basic {
        add(
            "503",
            ResponseBuilder::new()
                .description("The database is unavailable or the resource keeps changing; retry after `Retry-After` seconds")
                .header("Retry-After", HeaderBuilder::new().schema(Some(Object::with_type(Type::Integer))).build())
                .build(),
        );
    }
    if path_parameters {
        add(
            "400",
            ResponseBuilder::new()
                .description("A path parameter is not valid percent-encoded UTF-8")
                .build(),
        );
    }
    if json_body {
        add(
            "413",
            ResponseBuilder::new()
                .description("The body is larger than the server accepts")
                .build(),
        );
        add(
            "415",
            ResponseBuilder::new()
                .description("The body is not declared as `application/json`")
                .build(),
        );
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(response)) = (is_error, response) {
            if response.content.is_empty() {
                response
                    .content
                    .insert("application/json".into(), error_content().into());
            }
        }
    }
}

/// The `ApiError` content every error answer has unless it names another body.
fn error_content() -> Content {
    Content::new(Some(Ref::from_schema_name("ApiError")))
}
