//! docs/openapi.json is generated from the code; this keeps the checked-in copy equal to it.
//! `UPDATE_OPENAPI=1 cargo test -p integration-tests openapi` rewrites it.

#[test]
fn when_code_changes_the_api_should_have_updated_docs_openapi_json() {
    let path = integration_tests::repo_root().join("docs/openapi.json");
    let generated = collector_http::openapi::openapi_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json is stale: run `make openapi`"
    );
}
