//! `GET /docs`: an interactive explorer (Swagger UI) for `GET /openapi.json`. Every file it
//! needs is compiled into the binary (`vendor/swagger-ui/`, from the npm package
//! `swagger-ui-dist`), so it works with no internet access; "Authorize" takes a bearer
//! token and "Try it out" calls this server.

use std::borrow::Cow;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::ApiPath;
use super::schema::{string_enum, tags};
use super::AppState;

const INDEX_HTML: &str = include_str!("docs/index.html");

/// Only this server's own files: the page has no business loading anything else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     font-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The files under `/docs/`: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../vendor/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../../vendor/swagger-ui/swagger-ui.css"),
    ),
    (
        "favicon-32x32.png",
        "image/png",
        include_bytes!("../../vendor/swagger-ui/favicon-32x32.png"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("docs/init.js"),
    ),
    (
        "LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../vendor/swagger-ui/LICENSE"),
    ),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(docs_page))
        .routes(routes!(docs_asset))
}

/// The name of a file of the docs page.
pub struct DocsAsset;

impl PartialSchema for DocsAsset {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "A file of the docs page",
            ASSETS.iter().map(|(name, _, _)| *name),
        )
    }
}

impl ToSchema for DocsAsset {
    fn name() -> Cow<'static, str> {
        "DocsAsset".into()
    }
}

/// The interactive API explorer (Swagger UI) for this server's OpenAPI document.
#[utoipa::path(
    get,
    path = "/docs",
    operation_id = "GetDocsPage",
    tag = tags::OPERATIONS,
    responses((status = 200, description = "The docs page", content_type = "text/html", body = String)),
)]
async fn docs_page() -> Response {
    let mut response = INDEX_HTML.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

/// A script, stylesheet, image or licence of the docs page.
#[utoipa::path(
    get,
    path = "/docs/{asset}",
    operation_id = "GetDocsAsset",
    tag = tags::OPERATIONS,
    params(("asset" = inline(DocsAsset), Path, description = "The file's name")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/javascript"),
            (String = "text/css"),
            (String = "text/plain"),
            (Vec<u8> = "image/png"),
        )),
        (status = 404, description = "No such file"),
    ),
)]
async fn docs_asset(ApiPath(name): ApiPath<String>) -> ApiResult<Response> {
    let (_, content_type, bytes) = ASSETS
        .iter()
        .find(|(asset, _, _)| *asset == name)
        .ok_or_else(|| ApiError::not_found(format!("no docs file {name:?}")))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(response)
}
