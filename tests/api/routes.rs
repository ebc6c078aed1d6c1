//! The server's routes, read from its OpenAPI document (which comes from the router's own
//! list), so the endpoint tables of the scope matrix and the isolation test can prove they
//! are complete: a new route without a row fails them.

use reqwest::Method;

/// One method on one route path, as documented (`/clusters/{clusterUuid}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    pub path: String,
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

impl Route {
    /// Whether a table row (`method`, `path` with `{placeholders}` or literal values)
    /// addresses this route: the same method, and every segment equal or a route parameter.
    pub fn covers(&self, method: &Method, path: &str) -> bool {
        let ours: Vec<&str> = self.path.split('/').collect();
        let theirs: Vec<&str> = path.split('/').collect();
        self.method == method.as_str()
            && ours.len() == theirs.len()
            && ours
                .iter()
                .zip(&theirs)
                .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}')))
    }
}

/// Every method of every route the router declares: the OpenAPI document is assembled from
/// the same list as the router (`src/http/openapi.rs`), and `openapi.rs` in this suite
/// checks that each documented operation is routed.
pub fn server_routes() -> Vec<Route> {
    let doc: serde_json::Value =
        serde_json::from_str(consoled::http::openapi::document_json()).unwrap();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.push(Route {
                method: method.to_uppercase(),
                path: path.clone(),
            });
        }
    }
    assert!(routes.len() > 20, "found only {routes:?}");
    routes.sort();
    routes
}
