//! kadr-api
