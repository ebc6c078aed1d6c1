//! The server's routes, read from the `.route(PATH, HANDLERS)` calls in `src/http`, so the
//! endpoint tables of the scope matrix and the isolation test can prove they are complete:
//! a new route without a row fails them.

use std::path::Path;

use reqwest::Method;

/// One method on one route path, as written in the router (`/clusters/{cluster_id}`).
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

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every method of every route the router declares.
pub fn server_routes() -> Vec<Route> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut routes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            let call = &rest[at + ".route(".len()..];
            let end = closing_paren(call);
            let args = &call[..end];
            let open = args.find('"').expect("a route path literal");
            let close = open + 1 + args[open + 1..].find('"').unwrap();
            let route_path = &args[open + 1..close];
            let handlers = &args[close + 1..];
            for method in METHODS {
                if calls(handlers, method) {
                    routes.push(Route {
                        method: method.to_uppercase(),
                        path: route_path.to_string(),
                    });
                }
            }
            rest = &call[end..];
        }
    }
    assert!(
        routes.len() > 20,
        "found only {routes:?} in {}",
        dir.display()
    );
    routes.sort();
    routes
}

/// The index of the `)` that closes a call whose `(` was just consumed.
fn closing_paren(text: &str) -> usize {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced .route( call");
}

/// Whether `text` calls the method router `name(` (not `get_status(` or `list_get(`).
fn calls(text: &str, name: &str) -> bool {
    let needle = format!("{name}(");
    text.match_indices(&needle).any(|(i, _)| {
        text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}
