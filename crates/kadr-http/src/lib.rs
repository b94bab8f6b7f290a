//! kadr-http
