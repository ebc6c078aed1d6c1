//! `consoled openapi`: the OpenAPI document, as `GET /openapi.json` serves it.

pub fn run() -> anyhow::Result<()> {
    print!("{}", crate::http::openapi::document_json());
    Ok(())
}
