//! The engine's table of networks: the networks themselves stored side by side
//! in one vector (in the order they arrived, but for removals: the last one
//! moves into the freed slot), and a hash index from id to slot.
//!
//! A batch looks each id up once: the slot found while checking is where the
//! network is then updated, and networks that arrived together lie together in
//! memory (a NAS numbers and reports its networks in order), so a batch walks
//! the table nearly sequentially instead of chasing one pointer per network.

use crate::network::Network;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Networks by id: slots in a vector plus an id -> slot index.
#[derive(Clone, Debug, Default)]
pub struct NetworkTable {
    index: HashMap<u64, usize, BuildHasherDefault<IdHasher>>,
    slots: Vec<(u64, Network)>,
}

impl NetworkTable {
    /// Number of networks.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there is no network.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot of network `id`, if tracked.
    pub fn slot(&self, id: u64) -> Option<usize> {
        self.index.get(&id).copied()
    }

    /// Network `id`, if tracked.
    pub fn get(&self, id: u64) -> Option<&Network> {
        self.slot(id).map(|s| &self.slots[s].1)
    }

    /// Whether network `id` is tracked.
    pub fn contains_key(&self, id: u64) -> bool {
        self.index.contains_key(&id)
    }

    /// The network in slot `slot` (from [`NetworkTable::slot`]).
    pub fn at(&self, slot: usize) -> &Network {
        &self.slots[slot].1
    }

    /// The network in slot `slot`, for changing.
    pub(crate) fn at_mut(&mut self, slot: usize) -> &mut Network {
        &mut self.slots[slot].1
    }

    /// Moves the network out of slot `slot`, leaving an empty placeholder
    /// until [`NetworkTable::put`] returns it (no slot moves in between).
    pub(crate) fn take(&mut self, slot: usize) -> Network {
        std::mem::take(&mut self.slots[slot].1)
    }

    /// Returns a network taken from slot `slot`.
    pub(crate) fn put(&mut self, slot: usize, network: Network) {
        self.slots[slot].1 = network;
    }

    /// The networks in `ascending` slots (strictly ascending), for changing
    /// side by side: one mutable reference each, in that order.
    ///
    /// # Panics
    /// When the slots are not strictly ascending or one is out of range.
    pub(crate) fn many_mut(&mut self, ascending: &[usize]) -> Vec<&mut Network> {
        let mut out = Vec::with_capacity(ascending.len());
        let mut rest: &mut [(u64, Network)] = &mut self.slots;
        let mut base = 0;
        for &slot in ascending {
            let skip = slot
                .checked_sub(base)
                .expect("many_mut: slots not strictly ascending");
            assert!(skip < rest.len(), "many_mut: slot {slot} out of range");
            let (_, tail) = std::mem::take(&mut rest).split_at_mut(skip);
            let (first, tail) = tail.split_first_mut().expect("checked above");
            out.push(&mut first.1);
            rest = tail;
            base = slot + 1;
        }
        out
    }

    /// Adds network `id`, which must not be tracked yet, and returns its slot.
    /// Slots of other networks do not move.
    pub(crate) fn push(&mut self, id: u64, network: Network) -> usize {
        let slot = self.slots.len();
        let previous = self.index.insert(id, slot);
        debug_assert!(previous.is_none(), "network {id} pushed twice");
        self.slots.push((id, network));
        slot
    }

    /// Adds or replaces network `id`; returns whether it was tracked before.
    pub(crate) fn insert(&mut self, id: u64, network: Network) -> bool {
        match self.slot(id) {
            Some(s) => {
                self.slots[s].1 = network;
                true
            }
            None => {
                self.push(id, network);
                false
            }
        }
    }

    /// Removes network `id`. The last slot's network moves into its place.
    pub(crate) fn remove(&mut self, id: u64) -> Option<Network> {
        let slot = self.index.remove(&id)?;
        let (_, network) = self.slots.swap_remove(slot);
        if let Some((moved, _)) = self.slots.get(slot) {
            self.index.insert(*moved, slot);
        }
        Some(network)
    }

    /// The ids, in slot order.
    pub fn keys(&self) -> impl Iterator<Item = &u64> {
        self.slots.iter().map(|(id, _)| id)
    }

    /// The networks, in slot order.
    pub fn values(&self) -> impl Iterator<Item = &Network> {
        self.slots.iter().map(|(_, n)| n)
    }

    /// Bytes of the table's own storage: the slots' and the index's capacity
    /// (not what the networks' vectors hold).
    pub fn table_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<(u64, Network)>()
            + self.index.capacity() * (std::mem::size_of::<(u64, usize)>() + 1)
    }
}

impl std::ops::Index<&u64> for NetworkTable {
    type Output = Network;

    fn index(&self, id: &u64) -> &Network {
        self.get(*id).expect("network id not tracked")
    }
}

/// A fast hasher for 64-bit ids (the splitmix64 finalizer); ids come from the
/// NAS, not from an adversary.
#[derive(Default, Clone, Copy, Debug)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(k: usize) -> Network {
        Network {
            fits: k as u32,
            ..Network::default()
        }
    }

    #[test]
    fn remove_moves_the_last_slot_and_keeps_the_index_right() {
        let mut t = NetworkTable::default();
        for id in [10u64, 20, 30, 40] {
            t.push(id, net(id as usize));
        }
        assert_eq!(t.remove(20).map(|n| n.fits), Some(20));
        assert_eq!(t.remove(20), None);
        assert_eq!(t.len(), 3);
        for id in [10u64, 30, 40] {
            assert_eq!(t.get(id).map(|n| n.fits), Some(id as u32), "id {id}");
            assert_eq!(t[&id].fits, id as u32);
        }
        assert_eq!(t.remove(40).map(|n| n.fits), Some(40));
        assert_eq!(t.remove(10).map(|n| n.fits), Some(10));
        assert_eq!(t.keys().copied().collect::<Vec<_>>(), vec![30]);
        assert!(t.insert(30, net(3)));
        assert!(!t.insert(50, net(50)));
        assert_eq!(t.get(30).map(|n| n.fits), Some(3));
        assert_eq!(t.slot(50), Some(1));
    }

    #[test]
    fn take_and_put_return_a_network_to_its_slot() {
        let mut t = NetworkTable::default();
        let s = t.push(7, net(7));
        let n = t.take(s);
        assert_eq!(t.at(s).fits, 0);
        t.put(s, n);
        assert_eq!(t.get(7).map(|n| n.fits), Some(7));
    }

    fn table(n: u64) -> NetworkTable {
        let mut t = NetworkTable::default();
        for id in 0..n {
            t.push(id, net(id as usize));
        }
        t
    }

    #[test]
    fn many_mut_hands_out_the_asked_slots_in_order() {
        let mut t = table(6);
        let nets = t.many_mut(&[0, 2, 3, 5]);
        let fits: Vec<u32> = nets.iter().map(|n| n.fits).collect();
        assert_eq!(fits, [0, 2, 3, 5]);
        for n in nets {
            n.fits += 10;
        }
        let all: Vec<u32> = t.values().map(|n| n.fits).collect();
        assert_eq!(all, [10, 1, 12, 13, 4, 15]);
        assert!(t.many_mut(&[]).is_empty());
    }

    #[test]
    #[should_panic(expected = "not strictly ascending")]
    fn many_mut_refuses_slots_out_of_order() {
        table(4).many_mut(&[2, 1]);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn many_mut_refuses_a_slot_out_of_range() {
        table(4).many_mut(&[1, 4]);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn many_mut_refuses_a_slot_far_out_of_range() {
        table(4).many_mut(&[1, 9]);
    }
}
