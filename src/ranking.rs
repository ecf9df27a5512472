//! The cohort's top-X cutoff for rank-aware stopping (`select_top`) and the
//! thresholds of the `select_halving` rungs, kept up to date one network at a
//! time.
//!
//! A batch takes the cutoff with one pass over the tracked networks; a call
//! with a single observation would then pass over all of them for one
//! observation. [`ScoreIndex`] holds every network's score and how many
//! networks have each, so that such a call updates one score and reads the
//! X-th best in O(log n + X) instead. It gives exactly the value of the pass
//! (the X-th best under `f64::total_cmp`), so decisions do not depend on which
//! of the two computed it. [`RungIndex`] does the same for the rungs: the
//! values at each rung, sorted, so that a single observation reaching a rung
//! inserts its value and reads the threshold at once.

use crate::config::Direction;
use std::collections::BTreeMap;

/// A score ordered by `f64::total_cmp` (scores are finite).
#[derive(Clone, Copy, Debug)]
struct Key(f64);

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Every tracked network's score, by table slot, and the number of networks
/// with each score.
#[derive(Clone, Debug, Default)]
pub struct ScoreIndex {
    by_slot: Vec<Option<f64>>,
    counts: BTreeMap<Key, usize>,
    scored: usize,
}

impl ScoreIndex {
    /// The index of these scores, given in slot order (None: no score).
    pub fn new(scores: impl Iterator<Item = Option<f64>>) -> ScoreIndex {
        let mut index = ScoreIndex::default();
        for (slot, score) in scores.enumerate() {
            index.set(slot, score);
        }
        index
    }

    /// Sets the score of the network in `slot` (at most one past the last
    /// slot: a network just added).
    pub fn set(&mut self, slot: usize, score: Option<f64>) {
        if slot == self.by_slot.len() {
            self.by_slot.push(None);
        }
        let old = std::mem::replace(&mut self.by_slot[slot], score);
        if let Some(v) = old {
            let key = Key(v);
            let left = self.counts.get(&key).map_or(0, |c| c - 1);
            if left == 0 {
                self.counts.remove(&key);
            } else {
                self.counts.insert(key, left);
            }
            self.scored -= 1;
        }
        if let Some(v) = score {
            *self.counts.entry(Key(v)).or_insert(0) += 1;
            self.scored += 1;
        }
    }

    /// Removes the network in `slot`; the last slot's moves into its place,
    /// as in the networks' table.
    pub fn swap_remove(&mut self, slot: usize) {
        self.set(slot, None);
        self.by_slot.swap_remove(slot);
    }

    /// The `x`-th best score (NaN when `x` is 0 or fewer networks have one).
    pub fn cutoff(&self, x: usize, direction: Direction) -> f64 {
        if x == 0 || self.scored < x {
            return f64::NAN;
        }
        let mut seen = 0;
        let mut walk = |(key, count): (&Key, &usize)| {
            seen += count;
            (seen >= x).then_some(key.0)
        };
        let found = match direction {
            Direction::Maximize => self.counts.iter().rev().find_map(&mut walk),
            Direction::Minimize => self.counts.iter().find_map(&mut walk),
        };
        found.unwrap_or(f64::NAN)
    }

    /// An estimate of the heap memory the index uses.
    pub fn heap_bytes(&self) -> usize {
        // A B-tree entry: its key and count, and about as much again for the
        // nodes around it.
        self.by_slot.capacity() * std::mem::size_of::<Option<f64>>()
            + self.counts.len() * 2 * std::mem::size_of::<(Key, usize)>()
    }
}

/// Where the threshold of a `select_halving` rung with `m` values lies among
/// them, best first (0-based): the best max(X, ceil(m / eta)), at least one,
/// go on, so the threshold is the last of those; None while all m go on.
pub fn rung_threshold_position(m: usize, eta: f64, x: usize) -> Option<usize> {
    let keep = ((m as f64 / eta).ceil() as usize).max(x).max(1);
    (m > keep).then(|| keep - 1)
}

/// Per rung at the epochs `rungs`, the value of each history (`(epochs,
/// values)`) that reached it: its first observation at or after the rung.
pub fn values_at_rungs<'a>(
    rungs: &[f64],
    histories: impl Iterator<Item = (&'a [f64], &'a [f64])>,
) -> Vec<Vec<f64>> {
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); rungs.len()];
    for (epochs, seen) in histories {
        for (k, r) in rungs.iter().enumerate() {
            if let Some(&v) = seen.get(epochs.partition_point(|e| e < r)) {
                values[k].push(v);
            }
        }
    }
    values
}

/// The observed values at each `select_halving` rung (each tracked network's
/// first observation at or after it), sorted best first.
#[derive(Clone, Debug, Default)]
pub struct RungIndex {
    values: Vec<Vec<f64>>,
}

impl RungIndex {
    /// The index of the networks' histories (`(epochs, values)` each) at the
    /// rungs at epochs `rungs` (ascending).
    pub fn new<'a>(
        rungs: &[f64],
        histories: impl Iterator<Item = (&'a [f64], &'a [f64])>,
        direction: Direction,
    ) -> RungIndex {
        let mut values = values_at_rungs(rungs, histories);
        for v in values.iter_mut() {
            v.sort_by(|a, b| best_first(direction, a, b));
        }
        RungIndex { values }
    }

    /// Adds `value` at rung `k`, after the values as good as it.
    pub fn insert(&mut self, k: usize, value: f64, direction: Direction) {
        let at = &mut self.values[k];
        let pos = at.partition_point(|v| best_first(direction, v, &value).is_le());
        at.insert(pos, value);
    }

    /// Rung `k`'s threshold (see [`rung_threshold_position`]; NaN while
    /// every network there goes on).
    pub fn threshold(&self, k: usize, eta: f64, x: usize) -> f64 {
        let at = &self.values[k];
        rung_threshold_position(at.len(), eta, x).map_or(f64::NAN, |p| at[p])
    }

    /// An estimate of the heap memory the index uses.
    pub fn heap_bytes(&self) -> usize {
        self.values.iter().map(|v| v.capacity() * 8).sum()
    }
}

/// Best first under `f64::total_cmp`.
pub fn best_first(direction: Direction, a: &f64, b: &f64) -> std::cmp::Ordering {
    match direction {
        Direction::Maximize => b.total_cmp(a),
        Direction::Minimize => a.total_cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The x-th best by sorting, as `Engine::cutoff` takes it.
    fn sorted_cutoff(scores: &[Option<f64>], x: usize, direction: Direction) -> f64 {
        let mut v: Vec<f64> = scores.iter().flatten().copied().collect();
        if x == 0 || v.len() < x {
            return f64::NAN;
        }
        v.sort_by(|a, b| best_first(direction, a, b));
        v[x - 1]
    }

    #[test]
    fn updates_give_the_cutoff_of_a_full_sort() {
        // A small deterministic generator: scores with ties, networks that
        // lose their score and get it back, new networks.
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let mut scores: Vec<Option<f64>> = Vec::new();
        let mut index = ScoreIndex::default();
        for step in 0..5000 {
            let r = next();
            let slot = if scores.is_empty() || r % 7 == 0 {
                scores.len()
            } else {
                (r as usize / 7) % scores.len()
            };
            let score = (r % 5 != 0).then_some(((r >> 20) % 40) as f64 * 0.5);
            if r % 11 == 0 && !scores.is_empty() {
                let gone = (r as usize / 11) % scores.len();
                scores.swap_remove(gone);
                index.swap_remove(gone);
                continue;
            }
            if slot == scores.len() {
                scores.push(score);
            } else {
                scores[slot] = score;
            }
            index.set(slot, score);
            for x in [0, 1, 3, 10, 40] {
                for d in [Direction::Maximize, Direction::Minimize] {
                    let want = sorted_cutoff(&scores, x, d);
                    let got = index.cutoff(x, d);
                    assert_eq!(got.to_bits(), want.to_bits(), "step {step}, x {x}, {d:?}");
                }
            }
        }
        let rebuilt = ScoreIndex::new(scores.iter().copied());
        assert_eq!(
            rebuilt.cutoff(10, Direction::Maximize).to_bits(),
            index.cutoff(10, Direction::Maximize).to_bits()
        );
    }
}
