//! The generated OpenAPI document against the reference (`management-api-1.3.3.openapi.yaml`
//! in `shared/reference/`): every reference operation exists with its method, operation id,
//! path parameters, security scheme and status codes; every reference response schema's
//! required fields are present with compatible types (and enums within the reference's); every
//! field a reference request body has is accepted, and nothing the reference leaves optional
//! is required.
//!
//! Deliberate differences are the table "Deliberate differences from the reference" in
//! `docs/compatibility.md`. This test computes the differences and compares them with that
//! table both ways: a difference not in the table fails, and so does a row that no longer
//! describes a difference.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

const REFERENCE_FILE: &str = "management-api-1.3.3.openapi.yaml";
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// `shared/reference/` next to the repository (or any ancestor of it), or
/// `$CONSOLED_REFERENCE_DIR`.
fn reference_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CONSOLED_REFERENCE_DIR") {
        return Some(PathBuf::from(dir).join(REFERENCE_FILE));
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/reference").join(REFERENCE_FILE))
        .find(|candidate| candidate.is_file())
}

fn load_reference() -> Option<Value> {
    let Some(path) = reference_path() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the reference {REFERENCE_FILE} was not found in shared/reference/ beside the repository"
        );
        eprintln!("skipped: {REFERENCE_FILE} not found in shared/reference/ beside the repository (set CONSOLED_REFERENCE_DIR)");
        return None;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    Some(yaml_serde::from_str(&text).expect("the reference parses as YAML"))
}

/// One OpenAPI document with `$ref` resolution.
struct Doc<'a>(&'a Value);

impl<'a> Doc<'a> {
    fn resolve(&self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        for _ in 0..16 {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                return schema;
            };
            let pointer = reference.trim_start_matches('#');
            schema = self
                .0
                .pointer(pointer)
                .unwrap_or_else(|| panic!("unresolvable $ref {reference}"));
        }
        panic!("$ref chain too long")
    }

    fn ref_name(schema: &Value) -> Option<&str> {
        schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
    }

    /// The alternatives a schema allows: `oneOf`/`anyOf` branches, `null` dropped.
    fn alternatives(&self, schema: &'a Value) -> Vec<&'a Value> {
        let schema = self.resolve(schema);
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                return branches.iter().flat_map(|b| self.alternatives(b)).collect();
            }
        }
        if schema.get("type").and_then(Value::as_str) == Some("null") {
            return Vec::new();
        }
        vec![schema]
    }

    /// The JSON types a schema allows, `null` aside (an `allOf` is an object).
    fn types(&self, schema: &'a Value) -> BTreeSet<String> {
        let mut types = BTreeSet::new();
        for alternative in self.alternatives(schema) {
            match alternative.get("type") {
                Some(Value::String(t)) => {
                    types.insert(t.clone());
                }
                Some(Value::Array(list)) => {
                    types.extend(list.iter().filter_map(Value::as_str).map(String::from));
                }
                _ if alternative.get("allOf").is_some()
                    || alternative.get("properties").is_some() =>
                {
                    types.insert("object".into());
                }
                _ if alternative.get("enum").is_some() => {
                    types.insert("string".into());
                }
                _ => {}
            }
        }
        types.remove("null");
        types
    }

    /// The enum values a schema allows, or None when it allows any value of its type.
    fn enum_values(&self, schema: &'a Value) -> Option<BTreeSet<String>> {
        let mut values = BTreeSet::new();
        for alternative in self.alternatives(schema) {
            let list = alternative.get("enum")?.as_array()?;
            values.extend(list.iter().filter_map(Value::as_str).map(String::from));
        }
        Some(values)
    }

    /// Properties and required fields of an object schema, `allOf` merged.
    fn object(&self, schema: &'a Value) -> (BTreeMap<String, &'a Value>, BTreeSet<String>) {
        let mut properties = BTreeMap::new();
        let mut required = BTreeSet::new();
        for alternative in self.alternatives(schema) {
            let parts: Vec<&Value> = match alternative.get("allOf").and_then(Value::as_array) {
                Some(parts) => parts.iter().map(|p| self.resolve(p)).collect(),
                None => vec![alternative],
            };
            for part in parts {
                if let Some(map) = part.get("properties").and_then(Value::as_object) {
                    properties.extend(map.iter().map(|(k, v)| (k.clone(), v)));
                }
                if let Some(list) = part.get("required").and_then(Value::as_array) {
                    required.extend(list.iter().filter_map(Value::as_str).map(String::from));
                }
            }
        }
        (properties, required)
    }

    fn items(&self, schema: &'a Value) -> Option<&'a Value> {
        self.alternatives(schema)
            .into_iter()
            .find_map(|s| s.get("items"))
    }

    fn additional(&self, schema: &'a Value) -> Option<&'a Value> {
        self.alternatives(schema)
            .into_iter()
            .find_map(|s| s.get("additionalProperties").filter(|a| a.is_object()))
    }
}

/// Whether a value of type `sent` is a valid value of type `expected`.
fn type_fits(sent: &BTreeSet<String>, expected: &BTreeSet<String>) -> bool {
    if expected.is_empty() {
        return true;
    }
    sent.iter()
        .all(|t| expected.contains(t) || (t == "integer" && expected.contains("number")))
}

/// Compares what one side sends (`sent`) with what the other side expects (`expected`).
/// For responses consoled sends and clients of the reference expect; for request bodies it
/// is the other way round.
struct Comparison<'a> {
    sent: Doc<'a>,
    expected: Doc<'a>,
    /// Whether `sent` is consoled (responses) rather than the reference (requests).
    ours_sent: bool,
    differences: Vec<String>,
}

impl<'a> Comparison<'a> {
    fn note(&mut self, what: String) {
        self.differences.push(what);
    }

    fn compare(&mut self, at: &str, sent: &'a Value, expected: &'a Value, depth: usize) {
        if depth > 12 {
            return;
        }
        let sent_types = self.sent.types(sent);
        let expected_types = self.expected.types(expected);
        if !type_fits(&sent_types, &expected_types) {
            let (ours, theirs) = self.sides(&sent_types, &expected_types);
            self.note(format!(
                "{at}: type {ours:?} where the reference has {theirs:?}"
            ));
            return;
        }
        if let Some(expected_values) = self.expected.enum_values(expected) {
            match self.sent.enum_values(sent) {
                Some(sent_values) => {
                    let outside: Vec<_> = sent_values.difference(&expected_values).collect();
                    if !outside.is_empty() {
                        let side = if self.ours_sent { "sent" } else { "refused" };
                        self.note(format!("{at}: enum values {outside:?} {side}"));
                    }
                }
                None if self.ours_sent => {
                    self.note(format!("{at}: not limited to the reference's enum"));
                }
                None => {}
            }
        }
        if sent_types.contains("array") || expected_types.contains("array") {
            if let (Some(s), Some(e)) = (self.sent.items(sent), self.expected.items(expected)) {
                self.compare(&format!("{at}[]"), s, e, depth + 1);
            }
        }
        if expected_types.contains("object") || sent_types.contains("object") {
            self.compare_objects(at, sent, expected, depth);
        }
    }

    fn sides<T: Clone>(&self, sent: &T, expected: &T) -> (T, T) {
        if self.ours_sent {
            (sent.clone(), expected.clone())
        } else {
            (expected.clone(), sent.clone())
        }
    }

    fn compare_objects(&mut self, at: &str, sent: &'a Value, expected: &'a Value, depth: usize) {
        let (sent_props, sent_required) = self.sent.object(sent);
        let (expected_props, expected_required) = self.expected.object(expected);
        if self.ours_sent {
            // Every field the reference requires is sent, always.
            for field in &expected_required {
                if !sent_required.contains(field) {
                    let state = if sent_props.contains_key(field) {
                        "optional"
                    } else {
                        "missing"
                    };
                    self.note(format!("{at}.{field}: required by the reference, {state}"));
                }
            }
        } else {
            // Every field the reference's clients may send is accepted, and consoled requires
            // none they may leave out.
            for field in sent_props.keys() {
                if !expected_props.contains_key(field)
                    && self.expected.additional(expected).is_none()
                {
                    self.note(format!("{at}.{field}: not accepted"));
                }
            }
            for field in expected_required.difference(&sent_required) {
                self.note(format!("{at}.{field}: required, optional in the reference"));
            }
        }
        for (field, sent_field) in &sent_props {
            if let Some(expected_field) = expected_props.get(field) {
                self.compare(
                    &format!("{at}.{field}"),
                    sent_field,
                    expected_field,
                    depth + 1,
                );
            }
        }
        if let (Some(s), Some(e)) = (
            self.sent.additional(sent),
            self.expected.additional(expected),
        ) {
            self.compare(&format!("{at}.*"), s, e, depth + 1);
        }
    }
}

fn status_codes(operation: &Value) -> BTreeSet<String> {
    operation["responses"]
        .as_object()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

fn path_parameters(operation: &Value) -> Vec<String> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "path")
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect()
}

fn json_schema(content: &Value) -> Option<(&str, &Value)> {
    let map = content.as_object()?;
    map.iter().next().map(|(t, c)| (t.as_str(), &c["schema"]))
}

/// Every difference between the reference and the document, as `(operationId, text)`.
fn differences(reference: &Value, ours: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let reference_doc = Doc(reference);
    let our_doc = Doc(ours);
    for (path, item) in reference["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(theirs) = item.get(method) else {
                continue;
            };
            let id = theirs["operationId"].as_str().unwrap().to_string();
            let mut note = |text: String| {
                found.insert((id.clone(), text));
            };
            let Some(mine) = ours["paths"].get(path).and_then(|i| i.get(method)) else {
                note(format!(
                    "missing operation {} {path}",
                    method.to_uppercase()
                ));
                continue;
            };
            if mine["operationId"] != theirs["operationId"] {
                note(format!("operationId {}", mine["operationId"]));
            }
            if path_parameters(mine) != path_parameters(theirs) {
                note(format!("path parameters {:?}", path_parameters(mine)));
            }
            let has_bearer = mine["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if !has_bearer {
                note("no bearer security".into());
            }
            let (our_codes, their_codes) = (status_codes(mine), status_codes(theirs));
            let extra: Vec<_> = our_codes.difference(&their_codes).cloned().collect();
            let missing: Vec<_> = their_codes.difference(&our_codes).cloned().collect();
            if !extra.is_empty() {
                note(format!("extra status {}", extra.join(", ")));
            }
            if !missing.is_empty() {
                note(format!("missing status {}", missing.join(", ")));
            }
            // Response bodies: what consoled sends must satisfy the reference's clients.
            for code in their_codes.intersection(&our_codes) {
                let their_content = json_schema(&theirs["responses"][code]["content"]);
                let our_content = json_schema(&mine["responses"][code]["content"]);
                let (Some((their_type, their_schema)), Some((our_type, our_schema))) =
                    (their_content, our_content)
                else {
                    // An error answer the reference gives no body may have one here.
                    if their_content.is_some() {
                        note(format!("{code} has no body"));
                    }
                    continue;
                };
                if their_type != our_type {
                    note(format!(
                        "{code} content type {our_type} instead of {their_type}"
                    ));
                }
                let names = (
                    named(&reference_doc, their_schema),
                    named(&our_doc, our_schema),
                );
                if names.0.is_some() && names.0 != names.1 {
                    note(format!(
                        "{code} schema named {:?}",
                        names.1.unwrap_or_default()
                    ));
                }
                let mut comparison = Comparison {
                    sent: Doc(ours),
                    expected: Doc(reference),
                    ours_sent: true,
                    differences: Vec::new(),
                };
                comparison.compare("response", our_schema, their_schema, 0);
                for d in comparison.differences {
                    note(format!("{code} {d}"));
                }
            }
            // Request bodies: what the reference's clients send must be accepted.
            if let Some((_, their_schema)) = json_schema(&theirs["requestBody"]["content"]) {
                match json_schema(&mine["requestBody"]["content"]) {
                    None => note("no request body".into()),
                    Some((_, our_schema)) => {
                        let names = (
                            named(&reference_doc, their_schema),
                            named(&our_doc, our_schema),
                        );
                        if names.0 != names.1 {
                            note(format!(
                                "request schema named {:?}",
                                names.1.unwrap_or_default()
                            ));
                        }
                        let mut comparison = Comparison {
                            sent: Doc(reference),
                            expected: Doc(ours),
                            ours_sent: false,
                            differences: Vec::new(),
                        };
                        comparison.compare("request", their_schema, our_schema, 0);
                        for d in comparison.differences {
                            note(d);
                        }
                    }
                }
            }
        }
    }
    found
}

/// The name of a schema or of the items of an array schema.
fn named(doc: &Doc, schema: &Value) -> Option<String> {
    Doc::ref_name(schema)
        .or_else(|| doc.resolve(schema).get("items").and_then(Doc::ref_name))
        .map(String::from)
}

/// The rows of the table under "## Deliberate differences from the reference": the
/// operation (`*` for any) and one difference per comma-separated status code.
fn listed_differences(compatibility: &str) -> Vec<(String, String)> {
    let section = compatibility
        .split("\n## ")
        .find(|s| s.starts_with("Deliberate differences from the reference"))
        .expect(
            "docs/compatibility.md has a section \"## Deliberate differences from the reference\"",
        );
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || cells[1] == "Operation" || cells[1].starts_with("---") {
            continue;
        }
        let operation = cells[1].trim_matches('`').to_string();
        let difference = cells[2].trim_matches('`').to_string();
        rows.push((operation, difference));
    }
    rows
}

/// Splits "extra status 403, 404" into one entry per code.
fn expand(difference: &str) -> Vec<String> {
    for prefix in ["extra status ", "missing status "] {
        if let Some(codes) = difference.strip_prefix(prefix) {
            return codes
                .split(',')
                .map(|c| format!("{prefix}{}", c.trim()))
                .collect();
        }
    }
    vec![difference.to_string()]
}

#[test]
fn the_document_matches_the_reference_but_for_the_listed_differences() {
    let Some(reference) = load_reference() else {
        return;
    };
    let ours: Value = serde_json::from_str(consoled::http::openapi::document_json()).unwrap();
    let compatibility = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/compatibility.md"),
    )
    .expect("docs/compatibility.md exists");
    let listed = listed_differences(&compatibility);
    let mut allowed_anywhere = BTreeSet::new();
    let mut allowed: BTreeSet<(String, String)> = BTreeSet::new();
    for (operation, difference) in &listed {
        for one in expand(difference) {
            if operation == "*" {
                allowed_anywhere.insert(one);
            } else {
                allowed.insert((operation.clone(), one));
            }
        }
    }

    let found: BTreeSet<(String, String)> = differences(&reference, &ours)
        .into_iter()
        .flat_map(|(op, d)| expand(&d).into_iter().map(move |one| (op.clone(), one)))
        .collect();
    let unlisted: Vec<String> = found
        .iter()
        .filter(|(op, d)| {
            !allowed.contains(&(op.clone(), d.clone())) && !allowed_anywhere.contains(d)
        })
        .map(|(op, d)| format!("| `{op}` | {d} | … |"))
        .collect();
    let stale: Vec<String> = allowed
        .iter()
        .filter(|entry| !found.contains(entry))
        .map(|(op, d)| format!("`{op}`: {d}"))
        .collect();
    let stale_anywhere: Vec<&String> = allowed_anywhere
        .iter()
        .filter(|d| !found.iter().any(|(_, f)| f == *d))
        .collect();
    assert!(
        unlisted.is_empty(),
        "differences from the reference that docs/compatibility.md does not list \
         (fix the server or the document, or add a row with the reason):\n{}",
        unlisted.join("\n")
    );
    assert!(
        stale.is_empty() && stale_anywhere.is_empty(),
        "docs/compatibility.md lists differences that no longer exist: {stale:?} {stale_anywhere:?}"
    );
}

#[test]
fn every_reference_schema_name_is_a_schema_of_the_document() {
    let Some(reference) = load_reference() else {
        return;
    };
    let ours: Value = serde_json::from_str(consoled::http::openapi::document_json()).unwrap();
    let our_names: BTreeSet<&String> = ours["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    // Names the reference's generator made up for inline schemas (`Cluster_status`,
    // `Parameters_channels_inner`, ...) and the single-value role enums are not API names.
    let missing: Vec<&String> = reference["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|name| !name.contains('_') || name.as_str() == "CreateCluster_200_response")
        .filter(|name| !name.starts_with("OrganizationRole."))
        .filter(|name| !our_names.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "reference schemas without a schema of that name: {missing:?}"
    );
}

/// The rows of the table under "## Operations": operation id, "METHOD /path", SDK method,
/// status.
fn operations_table(compatibility: &str) -> Vec<[String; 4]> {
    let section = compatibility
        .split("\n## ")
        .find(|s| s.starts_with("Operations"))
        .expect("docs/compatibility.md has a section \"## Operations\"");
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<String> = line
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect();
            [
                cells[1].clone(),
                cells[2].clone(),
                cells[3].clone(),
                cells[4].clone(),
            ]
        })
        .collect()
}

/// The `AdminApiClient` methods of tests/sdk/NOTES.md's method table.
fn sdk_methods() -> Vec<String> {
    let notes =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/NOTES.md"))
            .unwrap();
    notes
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('(').map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn the_compatibility_table_covers_the_reference_and_the_sdk_and_matches_the_document() {
    let compatibility = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/compatibility.md"),
    )
    .unwrap();
    assert!(compatibility.contains("2026-11-27") || compatibility.contains("As of "));
    let rows = operations_table(&compatibility);
    let ours: Value = serde_json::from_str(consoled::http::openapi::document_json()).unwrap();
    for [id, endpoint, _, status] in &rows {
        assert!(
            ["works", "partial", "missing"].contains(&status.as_str()),
            "{id}: status {status:?}"
        );
        let (method, path) = endpoint.split_once(' ').expect("METHOD /path");
        let operation = &ours["paths"][path][method.to_lowercase()];
        if status == "missing" {
            assert!(
                operation.is_null(),
                "{id} is listed as missing but is served"
            );
        } else {
            assert_eq!(operation["operationId"], id.as_str(), "{endpoint}");
        }
    }
    let listed_ids: BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let listed_methods: BTreeSet<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    let sdk = sdk_methods();
    assert!(sdk.len() > 30, "the SDK method table was read: {sdk:?}");
    let unlisted: Vec<&String> = sdk
        .iter()
        .filter(|m| !listed_methods.contains(m.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "SDK methods not in docs/compatibility.md: {unlisted:?}"
    );
    if let Some(reference) = load_reference() {
        let unlisted: Vec<&str> = reference["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| METHODS.iter().filter_map(|m| item.get(*m)))
            .filter_map(|op| op["operationId"].as_str())
            .filter(|id| !listed_ids.contains(id))
            .collect();
        assert!(
            unlisted.is_empty(),
            "reference operations not in docs/compatibility.md: {unlisted:?}"
        );
    }
}

/// The comparison itself finds what it is meant to find.
#[test]
fn the_comparison_notices_missing_fields_codes_and_enum_values() {
    let reference = serde_json::json!({
        "paths": {"/things/{id}": {"get": {
            "operationId": "GetThing",
            "parameters": [{"name": "id", "in": "path"}],
            "security": [{"bearer": []}],
            "responses": {
                "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                "404": {"description": "not found"}
            }
        }}},
        "components": {"schemas": {"Thing": {"type": "object", "required": ["id", "state", "size"],
            "properties": {"id": {"type": "string"}, "size": {"type": "number"},
                "state": {"type": "string", "enum": ["on", "off"]}}}}}
    });
    let ours = serde_json::json!({
        "paths": {"/things/{id}": {"get": {
            "operationId": "GetThing",
            "parameters": [{"name": "id", "in": "path"}],
            "security": [{"bearer": ["get:things"]}],
            "responses": {
                "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                "410": {"description": "gone"}
            }
        }}},
        "components": {"schemas": {"Thing": {"type": "object", "required": ["state", "size"],
            "properties": {"size": {"type": "integer"},
                "state": {"type": "string", "enum": ["on", "off", "broken"]}}}}}
    });
    let found: Vec<String> = differences(&reference, &ours)
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(
        found,
        [
            "200 response.id: required by the reference, missing",
            "200 response.state: enum values [\"broken\"] sent",
            "extra status 410",
            "missing status 404",
        ],
        "{found:?}"
    );
}
