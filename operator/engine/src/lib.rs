//! Kiln step engine.
