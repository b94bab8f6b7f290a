//! kadr-upload-api
