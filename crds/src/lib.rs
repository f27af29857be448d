//! Kiln API types.
