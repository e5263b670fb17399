//! Routes are declared once, in each HTTP function's `ROUTES`; `template.yaml` (what API Gateway sends each
//! function) and `docs/openapi.json` (what clients are told) must say the same. A route missing from any of
//! them, or one of them naming a route the code does not serve, fails here.

use std::collections::BTreeSet;

use integration_tests::{repo_root, template};
use serde_json::Value;

type Route = (String, String, String);

/// (function, method, path) of every route the code serves.
fn code_routes() -> BTreeSet<Route> {
    let tables: [(&str, Vec<(&str, &str)>); 5] = [
        ("ingest", ingest::ROUTES.iter().collect()),
        ("bulk-ingest", bulk_ingest::ROUTES.iter().collect()),
        ("subscriptions", subscriptions::ROUTES.iter().collect()),
        ("jobs", jobs::ROUTES.iter().collect()),
        ("reads", reads::ROUTES.iter().collect()),
    ];
    tables
        .into_iter()
        .flat_map(|(function, routes)| {
            routes
                .into_iter()
                .map(move |(method, path)| (function.to_owned(), method.to_owned(), path.to_owned()))
        })
        .collect()
}

/// (function binary, method or `ANY`, path) of every HttpApi route of the template.
fn template_routes() -> BTreeSet<Route> {
    let functions = template()["functions"].as_object().expect("functions");
    functions
        .values()
        .flat_map(|function| {
            let binary = function["binary"].as_str().unwrap_or_default().to_owned();
            function["routes"].as_array().into_iter().flatten().map(move |route| {
                let field = |name: &str| route[name].as_str().unwrap_or_default().to_owned();
                (binary.clone(), field("method"), field("path"))
            })
        })
        .collect()
}

/// (method, path) of every operation of the OpenAPI document.
fn documented_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("docs/openapi.json")).expect("docs/openapi.json");
    let document: Value = serde_json::from_str(&text).expect("JSON");
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, operations)| {
            let methods = operations.as_object().into_iter().flat_map(|o| o.keys());
            methods.map(move |method| (method.to_ascii_uppercase(), path.clone()))
        })
        .collect()
}

/// What disagrees between the code's routes, the template's and the document's.
fn disagreements(
    code: &BTreeSet<Route>,
    template: &BTreeSet<Route>,
    documented: &BTreeSet<(String, String)>,
) -> Vec<String> {
    let mut faults = Vec::new();
    for (function, method, path) in code {
        let routed = template
            .iter()
            .any(|(f, m, p)| f == function && p == path && (m == method || m == "ANY"));
        if !routed {
            faults.push(format!("template.yaml does not route {method} {path} to {function}"));
        }
    }
    for (function, method, path) in template {
        let served = code
            .iter()
            .any(|(f, m, p)| f == function && p == path && (m == method || method == "ANY"));
        if !served {
            faults.push(format!(
                "template.yaml routes {method} {path} to {function}, which does not serve it"
            ));
        }
        // API Gateway routes a method and path: one path may go to two functions by method (POST …/events
        // stores, GET reads), never one method of it, and `ANY` takes every method.
        let overlaps = |m: &String| m == method || m == "ANY" || method == "ANY";
        if template
            .iter()
            .any(|(f, m, p)| f != function && p == path && overlaps(m))
        {
            faults.push(format!("{method} {path} is routed to two functions"));
        }
    }
    let served: BTreeSet<(String, String)> = code.iter().map(|(_, m, p)| (m.clone(), p.clone())).collect();
    for (method, path) in served.difference(documented) {
        faults.push(format!("docs/openapi.json does not document {method} {path}"));
    }
    for (method, path) in documented.difference(&served) {
        faults.push(format!(
            "docs/openapi.json documents {method} {path}, which no function serves"
        ));
    }
    faults
}

#[test]
fn when_routes_are_declared_the_code_the_template_and_the_openapi_document_should_agree() {
    let code = code_routes();
    let faults = disagreements(&code, &template_routes(), &documented_routes());
    assert!(faults.is_empty(), "{faults:#?}");
    assert_eq!(code.len(), 32, "every route of the five HTTP functions is counted");
}

#[test]
fn when_a_route_is_missing_from_one_place_the_check_should_name_it() {
    let (code, documented) = (code_routes(), documented_routes());
    let mut template = template_routes();
    template.retain(|(_, _, path)| path != "/api/v1/jobs/{jobId}/runs");
    template.insert(("jobs".into(), "GET".into(), "/api/v1/jobs/{jobId}/history".into()));
    let mut undocumented = documented.clone();
    undocumented.remove(&("PUT".to_owned(), "/api/v1/jobs".to_owned()));
    assert_eq!(
        disagreements(&code, &template, &undocumented),
        [
            "template.yaml does not route GET /api/v1/jobs/{jobId}/runs to jobs",
            "template.yaml routes GET /api/v1/jobs/{jobId}/history to jobs, which does not serve it",
            "docs/openapi.json does not document PUT /api/v1/jobs",
        ]
    );
}
