//! The process-wide Prometheus registry; every crate registers its metrics here and the HTTP
//! layer serves it at `/metrics`.

use std::sync::LazyLock;

use prometheus::Registry;

/// The registry, with every name prefixed `kadr_`.
pub fn registry() -> &'static Registry {
    static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
        Registry::new_custom(Some("kadr".to_owned()), None).unwrap_or_else(|_| Registry::new())
    });
    &REGISTRY
}
