//! The elementary functions every simulated number passes through, our own rather than the
//! platform libm's: built from correctly rounded IEEE operations only (add, sub, mul, div,
//! sqrt, exact conversions), without fused multiply-add, so each gives the same bits on
//! every machine and every instruction set. Their error bounds are stated per function and
//! tested against a 256-bit reference (`tests/elementary.rs`).

pub mod elementary;
pub mod trig;
