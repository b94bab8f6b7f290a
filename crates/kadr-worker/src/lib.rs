//! kadr-worker
