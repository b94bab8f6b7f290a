//! kadr-db
