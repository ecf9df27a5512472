//! Helpers for the unit tests.

/// A deterministic xorshift64 generator started from `seed` (not zero): each
/// call returns the next state.
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
