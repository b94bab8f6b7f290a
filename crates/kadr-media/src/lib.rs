//! kadr-media
pub mod plan;
