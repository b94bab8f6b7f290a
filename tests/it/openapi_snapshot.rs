//! The web UI's types are generated from `web/openapi.json`; this keeps that file equal to the
//! document the server serves, so a change on either side fails here or in `npm run
//! check:api` instead of drifting. `KADR_UPDATE_OPENAPI=1` rewrites the file (then run
//! `npm run --prefix web gen:api`).

use std::process::Command;

#[test]
fn web_openapi_json_is_the_served_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_kadr"))
        .arg("openapi")
        .env_remove("KADR_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/openapi.json");
    let checked_in: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    if served != checked_in {
        if std::env::var_os("KADR_UPDATE_OPENAPI").is_some() {
            let text = String::from_utf8(out.stdout).unwrap();
            std::fs::write(&path, text.trim_end()).unwrap();
        } else {
            panic!(
                "web/openapi.json differs from the served document: run \
                 KADR_UPDATE_OPENAPI=1 cargo nextest run -p kadr -E 'test(openapi_snapshot)', \
                 then npm run --prefix web gen:api"
            );
        }
    }
    // What the UI relies on is there.
    let schemas = &served["components"]["schemas"];
    assert_eq!(schemas["NewVideo"]["properties"]["title"]["maxLength"], 300);
    assert!(
        schemas["Problem"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .contains(&"quota_exceeded".into())
    );
}
