//! One readable route table per role: each row names its methods and path as the README does,
//! and is checked against its handlers' OpenAPI annotations when the table is built, so the
//! table, the document and the router cannot disagree.

use utoipa::openapi::path::PathItem;
use utoipa_axum::router::UtoipaMethodRouter;

/// A row of a route table: `methods` (`"GET"`, `"GET, DELETE"`) at `path`, served by the
/// handlers of `routes!(...)`. Panics, when the router is built (every test builds it), if the
/// handlers' annotations name another path or other methods.
pub fn at<S>(methods: &str, path: &str, handlers: UtoipaMethodRouter<S>) -> UtoipaMethodRouter<S> {
    let documented: Vec<&str> = handlers.1.paths.keys().map(String::as_str).collect();
    assert_eq!(documented, [path], "the route table says {path}; the handlers' annotations disagree");
    let mut said: Vec<String> = methods.split(',').map(|m| m.trim().to_ascii_uppercase()).collect();
    let mut annotated = declared(&handlers.1.paths[path]);
    said.sort();
    annotated.sort();
    assert_eq!(said, annotated, "the route table's methods for {path} are not the handlers' annotations");
    handlers
}

fn declared(item: &PathItem) -> Vec<String> {
    [
        ("GET", &item.get),
        ("PUT", &item.put),
        ("POST", &item.post),
        ("DELETE", &item.delete),
        ("OPTIONS", &item.options),
        ("HEAD", &item.head),
        ("PATCH", &item.patch),
        ("TRACE", &item.trace),
    ]
    .into_iter()
    .filter(|(_, op)| op.is_some())
    .map(|(m, _)| m.to_owned())
    .collect()
}
