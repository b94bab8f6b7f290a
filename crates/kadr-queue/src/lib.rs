//! kadr-queue
