//! The engine: one configuration and any number of networks keyed by a 64-bit id.
//!
//! `observe` is a batch of one, so single and batched calls cannot drift apart.
//! A rejected call leaves the engine exactly as it was.

use crate::config::Config;
use crate::error::{Error, ErrorCode, Result};
use crate::network::{Cohort, Network, Snapshot};
pub use crate::network::{State, Status};
use crate::ranking::{RungIndex, ScoreIndex, best_first, rung_threshold_position, values_at_rungs};
use rayon::prelude::*;
use std::sync::{Arc, OnceLock};

/// One observation in a batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    /// The network.
    pub id: u64,
    /// The epoch (strictly increasing per network, > 0).
    pub epoch: f64,
    /// The fitness (finite).
    pub value: f64,
}

pub use crate::networks::{IdHasher, NetworkTable};

/// The statuses of one network's batch entries (by batch index), or its first
/// rejected entry.
type GroupResult = std::result::Result<Statuses, (usize, Error)>;

/// One network's statuses in a batch, by batch index. Most networks have one
/// entry per batch, which then needs no vector: freeing one per network on the
/// calling thread, after the pool allocated it, was a measurable part of the
/// batch's serial time.
enum Statuses {
    One(usize, Status),
    Many(Vec<(usize, Status)>),
}

/// A network's entries in a batch (batch indices) and its slot in the table
/// (None: new).
type Group<'g> = (&'g [usize], Option<usize>);

/// A network taken out of the engine for a batch.
struct Work<'g> {
    id: u64,
    /// Where the network lies in the table (None: new in this batch).
    slot: Option<usize>,
    network: Network,
    snapshot: Option<Snapshot>,
    entries: &'g [usize],
}

/// The indexes behind the cohort's cutoffs for calls with one observation:
/// every network's score (`select_top`) and, with `select_hold_observed`,
/// what it shows.
#[derive(Debug)]
struct CohortIndex {
    scores: ScoreIndex,
    shown: Option<ScoreIndex>,
}

impl CohortIndex {
    /// The indexes of every tracked network (by one pass).
    fn new(networks: &NetworkTable, config: &Config) -> CohortIndex {
        CohortIndex {
            scores: ScoreIndex::new(networks.values().map(|n| n.score(config))),
            shown: (config.select_hold_observed > 0)
                .then(|| ScoreIndex::new(networks.values().map(|n| n.shown(config)))),
        }
    }

    /// Updates the entries of the network in `slot` (at most one past the
    /// last slot: a network just added).
    fn set(&mut self, slot: usize, network: &Network, config: &Config) {
        self.scores.set(slot, network.score(config));
        if let Some(shown) = self.shown.as_mut() {
            shown.set(slot, network.shown(config));
        }
    }

    /// Removes the network in `slot`, as the table does.
    fn swap_remove(&mut self, slot: usize) {
        self.scores.swap_remove(slot);
        if let Some(shown) = self.shown.as_mut() {
            shown.swap_remove(slot);
        }
    }

    /// The top-X cutoff and the shown cutoff (see [`Engine::cutoff`] and
    /// [`Engine::shown_cutoff`]).
    fn cutoffs(&self, config: &Config) -> (f64, f64) {
        let shown = self.shown.as_ref().map_or(f64::NAN, |s| {
            s.cutoff(config.select_hold_observed, config.direction)
        });
        (
            self.scores.cutoff(config.select_top, config.direction),
            shown,
        )
    }

    /// An estimate of the heap memory the indexes use.
    fn heap_bytes(&self) -> usize {
        self.scores.heap_bytes() + self.shown.as_ref().map_or(0, |s| s.heap_bytes())
    }
}

fn batch_error(i: usize, e: Error) -> Error {
    Error::new(e.code, format!("batch entry {i}: {}", e.message))
}

/// The Penguin engine.
#[derive(Debug)]
pub struct Engine {
    config: Arc<Config>,
    networks: NetworkTable,
    pool: OnceLock<std::result::Result<rayon::ThreadPool, String>>,
    /// The networks' scores for `select_top` (and what they show, for
    /// `select_hold_observed`), kept up to date by single observations and
    /// `forget`; None until one needs it and after anything else changes the
    /// networks (a batch, a restore, `replace_networks`), which rebuilds it.
    ranked: Option<CohortIndex>,
    /// The values at the `select_halving` rungs, kept up to date by single
    /// observations like `ranked`; dropped whenever `ranked` is, and also by
    /// `forget` (which updates `ranked` in place).
    rung_index: Option<RungIndex>,
}

impl Clone for Engine {
    fn clone(&self) -> Self {
        Engine {
            config: self.config.clone(),
            networks: self.networks.clone(),
            pool: OnceLock::new(),
            ranked: None,
            rung_index: None,
        }
    }
}

impl Engine {
    /// Creates an engine after validating the configuration.
    pub fn new(config: Config) -> Result<Engine> {
        Ok(Engine {
            config: config.validated()?,
            networks: NetworkTable::default(),
            pool: OnceLock::new(),
            ranked: None,
            rung_index: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Number of tracked networks.
    pub fn len(&self) -> usize {
        self.networks.len()
    }

    /// Whether no network is tracked.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// An estimate of the heap memory the tracked networks use: the table's
    /// slots and index and the networks' vector capacities (not the
    /// allocator's own overhead).
    pub fn heap_bytes(&self) -> usize {
        let vectors: usize = self
            .networks
            .values()
            .map(|n| {
                8 * (n.epochs.capacity()
                    + n.values.capacity()
                    + n.window.capacity()
                    + n.params.capacity())
            })
            .sum();
        let indexes = self.ranked.as_ref().map_or(0, |r| r.heap_bytes())
            + self.rung_index.as_ref().map_or(0, |r| r.heap_bytes());
        self.networks.table_bytes() + vectors + indexes
    }

    /// The tracked networks (for saving and inspection).
    pub fn networks(&self) -> &NetworkTable {
        &self.networks
    }

    /// Swaps in another table of networks (for benchmarks that replay the
    /// same state several times, as `penguin bench` does); returns the old
    /// one. Not checked: the table must come from an engine with the same
    /// configuration (`networks().clone()` of this engine or its clone).
    pub fn replace_networks(&mut self, networks: NetworkTable) -> NetworkTable {
        self.ranked = None;
        self.rung_index = None;
        std::mem::replace(&mut self.networks, networks)
    }

    /// Reports one observation of network `id` (a new id starts a new network)
    /// and returns its state. On error the engine is unchanged.
    pub fn observe(&mut self, id: u64, epoch: f64, value: f64) -> Result<Status> {
        self.observe_with_loss(id, epoch, value, f64::NAN)
    }

    /// [`Engine::observe`] with the network's validation loss at that epoch
    /// (NaN: not reported), for the late-bloomer guard (`loss_patience`).
    pub fn observe_with_loss(
        &mut self,
        id: u64,
        epoch: f64,
        value: f64,
        loss: f64,
    ) -> Result<Status> {
        let config = self.config.clone();
        let (cutoff, shown_cutoff) = self.single_cutoffs();
        let slot = self.networks.slot(id);
        let o = Observation { id, epoch, value };
        // Out while the network changes: should its fit panic, or the
        // observation be refused, the indexes are rebuilt next time rather
        // than left stale.
        let (rungs, rung_index) = self.single_rungs(o);
        let mut ranked = self.ranked.take();
        let cohort = Cohort {
            cutoff,
            shown_cutoff,
            rungs: &rungs,
        };
        let status = self.observe_at(&config, slot, o, cohort, loss)?;
        if let Some(index) = ranked.as_mut() {
            // A new network went into the last slot.
            let s = slot.unwrap_or(self.networks.len() - 1);
            index.set(s, self.networks.at(s), &config);
        }
        self.ranked = ranked;
        self.rung_index = rung_index;
        Ok(status)
    }

    /// [`Engine::rungs`] for a call with the one observation `o`: the same
    /// thresholds, from the rung index (built by one pass the first time),
    /// which takes `o`'s value at each rung it reaches. The index is handed
    /// back to keep once the observation is accepted.
    fn single_rungs(&mut self, o: Observation) -> (Vec<(f64, f64)>, Option<RungIndex>) {
        let config = &self.config;
        let rungs = config.halving_rungs();
        if rungs.is_empty() {
            return (Vec::new(), None);
        }
        let networks = &self.networks;
        let mut index = self.rung_index.take().unwrap_or_else(|| {
            let histories = networks.values().map(|n| (&n.epochs[..], &n.values[..]));
            RungIndex::new(&rungs, histories, config.direction)
        });
        let previous = networks.get(o.id).and_then(|n| n.epochs.last().copied());
        for k in Config::rungs_reached(&rungs, |r| *r, previous, o.epoch) {
            index.insert(k, o.value, config.direction);
        }
        let (eta, x) = (config.select_halving, config.select_top);
        let out = (rungs.iter().enumerate())
            .map(|(k, &r)| (r, index.threshold(k, eta, x)))
            .collect();
        (out, Some(index))
    }

    /// [`Engine::cutoff`] and [`Engine::shown_cutoff`] for a call with one
    /// observation: the same values, from the cohort's indexes (built by one
    /// pass the first time).
    fn single_cutoffs(&mut self) -> (f64, f64) {
        if !self.config.takes_cutoff() {
            return (f64::NAN, f64::NAN);
        }
        let config = &self.config;
        let networks = &self.networks;
        self.ranked
            .get_or_insert_with(|| CohortIndex::new(networks, config))
            .cutoffs(config)
    }

    /// Applies one observation to the network in `slot`, or to a new network
    /// (added only when the observation is accepted); returns its status.
    fn observe_at(
        &mut self,
        config: &Config,
        slot: Option<usize>,
        o: Observation,
        cohort: Cohort,
        loss: f64,
    ) -> Result<Status> {
        match slot {
            Some(s) => {
                let net = self.networks.at_mut(s);
                net.observe(config, o.id, o.epoch, o.value, cohort, loss)?;
                Ok(net.status())
            }
            None => {
                let mut net = Network::new();
                net.observe(config, o.id, o.epoch, o.value, cohort, loss)?;
                let status = net.status();
                self.networks.push(o.id, net);
                Ok(status)
            }
        }
    }

    /// Reports many observations at once (a network may appear several times, in
    /// epoch order). Networks are fitted in parallel on the engine's own thread
    /// pool. All or nothing: if any entry is rejected, the lowest rejected
    /// entry's error is returned and the engine is unchanged. The result is
    /// identical to observing the entries one by one, but for the rules that
    /// judge a network against the others (`select_top`, `select_halving`):
    /// they judge a call's entries together.
    pub fn observe_batch(&mut self, batch: &[Observation]) -> Result<Vec<Status>> {
        self.observe_batch_with_loss(batch, None)
    }

    /// [`Engine::observe_batch`] with each entry's validation loss (`losses[i]`
    /// for entry i, NaN: not reported), for the late-bloomer guard.
    pub fn observe_batch_with_loss(
        &mut self,
        batch: &[Observation],
        losses: Option<&[f64]>,
    ) -> Result<Vec<Status>> {
        self.ranked = None;
        self.rung_index = None;
        if losses.is_some_and(|l| l.len() != batch.len()) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "observe_batch_with_loss: one loss per entry needed",
            ));
        }
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // Entries grouped by network, in their order within each network.
        let mut order: Vec<usize> = (0..batch.len()).collect();
        if !batch.is_sorted_by_key(|o| o.id) {
            order.sort_by_key(|&i| batch[i].id);
        }

        // Phase 1: every check that needs no fitting, before anything changes;
        // each network's slot is looked up once, here.
        let mut rejected: Option<(usize, Error)> = None;
        let empty = Network::default();
        let mut located: Vec<Group> = Vec::with_capacity(batch.len());
        for g in order.chunk_by(|a, b| batch[*a].id == batch[*b].id) {
            let id = batch[g[0]].id;
            let slot = self.networks.slot(id);
            located.push((g, slot));
            let net = slot.map_or(&empty, |s| self.networks.at(s));
            let mut last = net.epochs.last().copied();
            for &i in g {
                let o = batch[i];
                let r = net.check_with(o.id, o.epoch, o.value, last);
                last = Some(o.epoch);
                if let Err(e) = r {
                    rejected = lowest(rejected.take(), Some((i, e)));
                    break;
                }
            }
        }
        let config = self.config.clone();
        let rungs = self.rungs(batch);
        let call = BatchCall {
            config: &config,
            cohort: Cohort {
                cutoff: self.cutoff(),
                shown_cutoff: self.shown_cutoff(),
                rungs: &rungs,
            },
            batch,
            losses,
        };
        let (multi, single): (Vec<Group>, Vec<Group>) =
            located.into_iter().partition(|(g, _)| g.len() > 1);
        if let Some((s, static_error)) = rejected {
            // Observed one by one, an earlier entry could already fail: a network
            // with several entries may stop before one of them (AlreadyDecided),
            // which only fitting shows. Replay the entries before `s` of those
            // networks, note the first failure (and entry s's own error given
            // its network's state then), and undo everything.
            let mut work = self.take_networks(batch, &multi, true);
            let mut first: Option<(usize, Error)> = None;
            for w in work.iter_mut() {
                for &i in w.entries {
                    let r = if i < s {
                        call.observe(&mut w.network, i)
                    } else if i == s {
                        let o = batch[i];
                        w.network.check(o.id, o.epoch, o.value)
                    } else {
                        break;
                    };
                    if let Err(e) = r {
                        first = lowest(first.take(), Some((i, e)));
                        break;
                    }
                }
            }
            self.put_back_unchanged(work);
            let (i, e) = first.filter(|(i, _)| *i <= s).unwrap_or((s, static_error));
            return Err(batch_error(i, e));
        }

        // Phase 2: networks with several entries first (one may stop before its
        // last entry: then the batch is rolled back), then the rest, which can no
        // longer fail. Slots found in phase 1 stay valid: networks new in this
        // batch are only appended to the table.
        let mut statuses: Vec<Status> = vec![Status::EMPTY; batch.len()];
        let mut work = self.take_networks(batch, &multi, true);
        let results = self.run_groups_or_put_back(call, &mut work);
        if let Some((i, e)) = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .min_by_key(|(i, _)| *i)
            .cloned()
        {
            self.put_back_unchanged(work);
            return Err(batch_error(i, e));
        }
        self.put_back(work, results, &mut statuses);
        // Only networks that fit on this entry go to the pool, and only when
        // there are two or more: the others (too few points yet) cost a few
        // tens of nanoseconds each, less than handing them to another thread.
        // The pool is not even started for a batch without two fits.
        let min_points = config.min_points();
        let (mut pooled, mut in_place): (Vec<Group>, Vec<Group>) = if config.threads != 1 {
            single.into_iter().partition(|(_, slot)| {
                slot.map_or(0, |s| self.networks.at(s).epochs.len()) + 1 >= min_points
            })
        } else {
            (Vec::new(), single)
        };
        if pooled.len() < 2 || self.pool().is_none() {
            in_place.append(&mut pooled);
        }
        let mut late = self.observe_in_place(call, &in_place, &mut statuses);
        // Tracked networks are worked on in their slots; new ones (only when
        // min_points <= 1) are moved to the pool and back.
        let (tracked, pooled): (Vec<Group>, Vec<Group>) =
            pooled.into_iter().partition(|(_, slot)| slot.is_some());
        if !tracked.is_empty() {
            let r = self.observe_in_slots(call, &tracked, &mut statuses);
            late = lowest(late, r);
        }
        if !pooled.is_empty() {
            let mut work = self.take_networks(batch, &pooled, false);
            let results = self.run_groups_or_put_back(call, &mut work);
            let r = results.iter().filter_map(|r| r.as_ref().err()).cloned();
            late = r.fold(late, |a, b| lowest(a, Some(b)));
            self.put_back(work, results, &mut statuses);
        }
        if let Some((i, e)) = late {
            // Phase 1 checked everything a single entry can fail on.
            return Err(Error::new(
                ErrorCode::Internal,
                format!("batch entry {i}: unexpected late rejection: {}", e.message),
            ));
        }
        Ok(statuses)
    }

    /// Applies single-entry groups of tracked networks on the pool, each
    /// network updated in its slot; returns the rejection of the lowest batch
    /// index. Should a fit panic, the networks stay in their slots: those done
    /// before it keep their entry, the one that panicked is as before (see
    /// `Network::observe`).
    fn observe_in_slots(
        &mut self,
        call: BatchCall,
        groups: &[Group],
        statuses: &mut [Status],
    ) -> Option<(usize, Error)> {
        // (slot, batch index), by slot: the order the table hands them out.
        let mut jobs: Vec<(usize, usize)> = groups
            .iter()
            .filter_map(|(g, slot)| slot.map(|s| (s, g[0])))
            .collect();
        if !jobs.is_sorted_by_key(|j| j.0) {
            jobs.sort_unstable_by_key(|j| j.0);
        }
        let slots: Vec<usize> = jobs.iter().map(|j| j.0).collect();
        let pool = pool_of(&self.pool, call.config.threads);
        let networks = self.networks.many_mut(&slots);
        let run = |(net, &(_, i)): (&mut Network, &(usize, usize))| {
            (i, call.observe(net, i).map(|()| net.status()))
        };
        let results: Vec<(usize, Result<Status>)> = match pool {
            // At most 8 networks per sequential piece: see run_groups.
            Some(pool) => pool.install(|| {
                networks
                    .into_par_iter()
                    .zip(jobs.par_iter())
                    .with_max_len(8)
                    .map(run)
                    .collect()
            }),
            None => networks.into_iter().zip(jobs.iter()).map(run).collect(),
        };
        let mut late = None;
        for (i, r) in results {
            record(statuses, &mut late, i, r);
        }
        late
    }

    /// Applies single-entry groups one after the other, each network updated
    /// in its slot (new networks are added); returns the rejection of the
    /// lowest batch index.
    fn observe_in_place(
        &mut self,
        call: BatchCall,
        groups: &[Group],
        statuses: &mut [Status],
    ) -> Option<(usize, Error)> {
        let mut late = None;
        for &(g, slot) in groups {
            let i = g[0];
            let r = self.observe_at(call.config, slot, call.batch[i], call.cohort, call.loss(i));
            record(statuses, &mut late, i, r);
        }
        late
    }

    /// The `select_halving` rungs for a call with `batch`, as (epoch,
    /// threshold) (those of [`Config::halving_rungs`]; empty when off): at each
    /// rung, the max(X, ceil(m / eta))-th best of the m observed values there,
    /// those of the tracked networks that reached it (each network's first
    /// observation at or after it) and of the call's entries that reach it;
    /// NaN (every one goes on) while m is not above that. Entries of one call
    /// are judged together, as synchronous halving does; calls with one
    /// observation each judge a network against those before it, as Optuna's
    /// pruner does. Costs a pass over every tracked network when on (single
    /// observations take [`Engine::single_rungs`] instead).
    fn rungs(&self, batch: &[Observation]) -> Vec<(f64, f64)> {
        let config = &self.config;
        let rungs = config.halving_rungs();
        if rungs.is_empty() {
            return Vec::new();
        }
        let histories = self
            .networks
            .values()
            .map(|n| (&n.epochs[..], &n.values[..]));
        let mut at_rung = values_at_rungs(&rungs, histories);
        // The previous epoch of each entry's network: its history's last, or
        // its entry before in this call.
        let mut last: std::collections::HashMap<u64, f64> = std::collections::HashMap::new();
        for o in batch {
            let previous = last.get(&o.id).copied().or_else(|| {
                let slot = self.networks.slot(o.id)?;
                self.networks.at(slot).epochs.last().copied()
            });
            for k in Config::rungs_reached(&rungs, |r| *r, previous, o.epoch) {
                at_rung[k].push(o.value);
            }
            last.insert(o.id, o.epoch);
        }
        let threshold = |mut values: Vec<f64>| {
            let at =
                rung_threshold_position(values.len(), config.select_halving, config.select_top);
            let order = |a: &f64, b: &f64| best_first(config.direction, a, b);
            at.map_or(f64::NAN, |k| *values.select_nth_unstable_by(k, order).1)
        };
        rungs
            .into_iter()
            .zip(at_rung)
            .map(|(r, values)| (r, threshold(values)))
            .collect()
    }

    /// The cohort's top-X cutoff for `select_top = X`: the X-th best score
    /// (each network's final answer, or newest valid prediction while it
    /// trains); NaN when `select_top` is 0, under `select_halving` (which
    /// needs none) or when fewer than X networks have one.
    /// Costs a pass over every tracked network.
    pub fn cutoff(&self) -> f64 {
        self.xth_best(self.config.select_top, |n| n.score(&self.config))
    }

    /// The cohort's shown cutoff for `select_hold_observed = K`: the K-th best
    /// of what the networks show (the mean of each one's last N observed
    /// values, stopped or not); NaN when K is 0, when rank-aware stopping is
    /// off or when fewer than K networks have an observation.
    /// Costs a pass over every tracked network.
    pub fn shown_cutoff(&self) -> f64 {
        self.xth_best(self.config.select_hold_observed, |n| n.shown(&self.config))
    }

    /// The `x`-th best of the networks' `value`s (NaN when `x` is 0, when
    /// rank-aware stopping is off, or when fewer than `x` have one).
    fn xth_best(&self, x: usize, value: impl Fn(&Network) -> Option<f64>) -> f64 {
        if x == 0 || !self.config.takes_cutoff() || self.networks.len() < x {
            return f64::NAN;
        }
        let mut values: Vec<f64> = self.networks.values().filter_map(value).collect();
        if values.len() < x {
            return f64::NAN;
        }
        let order = |a: &f64, b: &f64| best_first(self.config.direction, a, b);
        *values.select_nth_unstable_by(x - 1, order).1
    }

    /// Takes the networks of `groups` out of the table (new ones start
    /// empty), remembering how to undo their changes when `snapshot` is set.
    fn take_networks<'g>(
        &mut self,
        batch: &[Observation],
        groups: &[Group<'g>],
        snapshot: bool,
    ) -> Vec<Work<'g>> {
        groups
            .iter()
            .map(|&(g, slot)| {
                let network = slot.map_or_else(Network::new, |s| self.networks.take(s));
                Work {
                    id: batch[g[0]].id,
                    slot,
                    snapshot: snapshot.then(|| network.snapshot()),
                    network,
                    entries: g,
                }
            })
            .collect()
    }

    /// Returns a worked network to its slot, or adds it when it is new.
    fn return_network(&mut self, id: u64, slot: Option<usize>, network: Network) {
        match slot {
            Some(s) => self.networks.put(s, network),
            None => {
                self.networks.push(id, network);
            }
        }
    }

    /// Undoes a batch's changes to taken networks and returns them to the
    /// table (networks the batch created are dropped).
    fn put_back_unchanged(&mut self, work: Vec<Work>) {
        for w in work {
            let mut net = w.network;
            if let Some(snapshot) = w.snapshot {
                net.restore(snapshot);
            }
            if w.slot.is_some() || !net.epochs.is_empty() {
                self.return_network(w.id, w.slot, net);
            }
        }
    }

    /// [`Engine::run_groups`], but should a fit panic (a user-defined
    /// function's callback, or a bug), the taken networks go back to the
    /// table (restored where a snapshot was kept) before the panic goes on, so
    /// that no tracked network is left as an empty placeholder.
    fn run_groups_or_put_back(
        &mut self,
        call: BatchCall,
        work: &mut Vec<Work>,
    ) -> Vec<GroupResult> {
        let run = std::panic::AssertUnwindSafe(|| self.run_groups(call, work));
        match std::panic::catch_unwind(run) {
            Ok(results) => results,
            Err(panic) => {
                self.put_back_unchanged(std::mem::take(work));
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Applies each group's entries to its network, in parallel on the pool when
    /// there is more than one network.
    fn run_groups(&self, call: BatchCall, work: &mut [Work]) -> Vec<GroupResult> {
        let run = |w: &mut Work| {
            let mut observe = |i: usize| {
                call.observe(&mut w.network, i)
                    .map(|()| (i, w.network.status()))
                    .map_err(|e| (i, e))
            };
            if let [i] = w.entries {
                let (i, s) = observe(*i)?;
                return Ok(Statuses::One(i, s));
            }
            let mut out = Vec::with_capacity(w.entries.len());
            for &i in w.entries {
                out.push(observe(i)?);
            }
            Ok(Statuses::Many(out))
        };
        if work.len() > 1 && call.config.threads != 1 {
            if let Some(pool) = self.pool() {
                // At most 8 networks per sequential piece: rayon otherwise
                // hands each thread an eighth of the batch or so, and the one
                // that finishes first idles while the other works through the
                // rest of its piece (measured: 2-12 ms per batch of 10,000).
                return pool.install(|| work.par_iter_mut().with_max_len(8).map(run).collect());
            }
        }
        work.iter_mut().map(run).collect()
    }

    /// Returns worked networks to the table and their statuses to their slots.
    fn put_back(&mut self, work: Vec<Work>, results: Vec<GroupResult>, statuses: &mut [Status]) {
        for (w, r) in work.into_iter().zip(results) {
            match r {
                Ok(Statuses::One(i, s)) => statuses[i] = s,
                Ok(Statuses::Many(all)) => {
                    for (i, s) in all {
                        statuses[i] = s;
                    }
                }
                Err(_) => {}
            }
            self.return_network(w.id, w.slot, w.network);
        }
    }

    fn pool(&self) -> Option<&rayon::ThreadPool> {
        pool_of(&self.pool, self.config.threads)
    }

    /// The state of network `id` without new data.
    pub fn status(&self, id: u64) -> Result<Status> {
        self.networks
            .get(id)
            .map(|n| n.status())
            .ok_or_else(|| unknown(id))
    }

    /// Installs restored networks (from a saved state) into an empty engine,
    /// checking that each is consistent.
    pub(crate) fn restore_networks(&mut self, networks: Vec<(u64, Network)>) -> Result<()> {
        self.ranked = None;
        self.rung_index = None;
        let bad = |id: u64, why: &str| {
            Err(Error::new(
                ErrorCode::InvalidState,
                format!("saved state: network {id}: {why}"),
            ))
        };
        for (id, n) in networks {
            if n.epochs.len() != n.values.len() || n.epochs.len() > u32::MAX as usize {
                return bad(id, "history lengths differ");
            }
            if n.epochs.iter().any(|e| !e.is_finite() || *e <= 0.0)
                || n.epochs.windows(2).any(|w| w[1] <= w[0])
            {
                return bad(id, "epochs are not finite and increasing");
            }
            if n.values.iter().any(|v| !v.is_finite()) {
                return bad(id, "non-finite fitness value");
            }
            if n.window.len() > self.config.n {
                return bad(id, "prediction window longer than N");
            }
            if self.networks.insert(id, n) {
                return bad(id, "appears twice");
            }
        }
        Ok(())
    }

    /// Stops tracking network `id`.
    pub fn forget(&mut self, id: u64) -> Result<()> {
        let slot = self.networks.slot(id).ok_or_else(|| unknown(id))?;
        self.networks.remove(id);
        if let Some(index) = self.ranked.as_mut() {
            index.swap_remove(slot);
        }
        // Its values leave the rungs: the index is rebuilt when next needed.
        self.rung_index = None;
        Ok(())
    }
}

/// Stores entry `i`'s status, or keeps its error in `late` when it is the
/// lowest-numbered one so far.
fn record(statuses: &mut [Status], late: &mut Option<(usize, Error)>, i: usize, r: Result<Status>) {
    match r {
        Ok(status) => statuses[i] = status,
        Err(e) => *late = lowest(late.take(), Some((i, e))),
    }
}

/// Of two batch rejections, the one of the lower entry.
fn lowest(a: Option<(usize, Error)>, b: Option<(usize, Error)>) -> Option<(usize, Error)> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// What every step of one batch call reads: the configuration, the cohort's
/// top-X cutoff taken at the call's start, the halving rungs' thresholds
/// (with the call's own entries), the entries and their losses.
#[derive(Clone, Copy)]
struct BatchCall<'a> {
    config: &'a Config,
    cohort: Cohort<'a>,
    batch: &'a [Observation],
    losses: Option<&'a [f64]>,
}

impl BatchCall<'_> {
    /// Entry `i`'s validation loss (NaN: not reported).
    fn loss(&self, i: usize) -> f64 {
        self.losses.map_or(f64::NAN, |l| l[i])
    }

    /// Applies entry `i` to `network` (see `Network::observe`).
    fn observe(&self, network: &mut Network, i: usize) -> Result<()> {
        let o = self.batch[i];
        network.observe(
            self.config,
            o.id,
            o.epoch,
            o.value,
            self.cohort,
            self.loss(i),
        )
    }
}

/// The engine's pool, started on first use with `threads` threads (None: it
/// could not be started). A function of the field alone, so that the table
/// can be borrowed mutably beside it.
fn pool_of(
    cell: &OnceLock<std::result::Result<rayon::ThreadPool, String>>,
    threads: usize,
) -> Option<&rayon::ThreadPool> {
    cell.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("penguin-{i}"))
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .ok()
}

fn unknown(id: u64) -> Error {
    Error::new(
        ErrorCode::UnknownNetwork,
        format!("network {id} is not tracked"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine with `select_halving = 3` and `select_top = 2` (rungs at
    /// 20/9 and 20/3 epochs).
    fn halving_engine() -> Engine {
        let mut config = Config::default();
        config.set("select_halving", "3").unwrap();
        config.set("select_top", "2").unwrap();
        Engine::new(config).unwrap()
    }

    /// Network `id`'s flat curve at `value` up to `epoch` (observations
    /// every half epoch), one call each; its last status.
    fn flat(engine: &mut Engine, id: u64, value: f64, epoch: f64) -> Status {
        let mut status = None;
        for k in 1..=(epoch * 2.0) as usize {
            status = Some(engine.observe(id, k as f64 * 0.5, value).unwrap());
        }
        status.unwrap()
    }

    #[test]
    fn halving_judges_a_batch_together_and_single_calls_against_those_before() {
        // Nine networks reach the first rung (epoch 2.5) in one batch: the
        // best max(2, 9/3) = 3 go on, the others stop there, answering.
        let mut engine = halving_engine();
        let mut statuses = Vec::new();
        for k in 1..=5 {
            let batch: Vec<Observation> = (0..9)
                .map(|id| Observation {
                    id,
                    epoch: k as f64 * 0.5,
                    value: 50.0 + id as f64,
                })
                .collect();
            statuses = engine.observe_batch(&batch).unwrap();
        }
        let going: Vec<u64> = (0..9)
            .filter(|&i| statuses[i as usize].state == State::Continue)
            .collect();
        assert_eq!(going, vec![6, 7, 8]);
        // Flat curves: Algorithm 2 would have stopped them all at epoch 2.5.
        assert!(statuses[..6].iter().all(|s| s.state == State::Converged));
        // One by one, a network meets the rung against those there before it
        // (10 values with its own, then 11): the best max(2, ceil(m/3)) = 4
        // go on, so 56.5 stays and 55.5 stops.
        assert_eq!(flat(&mut engine, 20, 56.5, 2.5).state, State::Continue);
        assert_eq!(flat(&mut engine, 21, 55.5, 2.5).state, State::Converged);
        // Those that went on train to the next rung (epoch 7) on flat
        // curves that Algorithm 2 finds converged.
        for epoch in [3.0, 5.0, 6.5] {
            let s = engine.observe(8, epoch, 58.0).unwrap();
            assert_eq!(s.state, State::Continue, "epoch {epoch}");
        }
    }

    #[test]
    fn single_observations_keep_the_rung_thresholds_of_a_full_pass() {
        // The same observations, one call each (the rung index) and one-entry
        // batches (a pass per call), for both directions: at every call the
        // index's thresholds must be the pass's, and the statuses and errors
        // the same. With ties, networks that skip rungs or start past them,
        // refused observations (an epoch not after the last, a stopped
        // network), forgotten networks, and fresh ids for stopped ones.
        for direction in ["maximize", "minimize"] {
            let mut config = Config::default();
            config.set("select_halving", "2").unwrap(); // rungs 2.5, 5 and 10
            config.set("select_top", "3").unwrap();
            config.set("min_points", "1000").unwrap(); // no fits: fast
            config.set("direction", direction).unwrap();
            if direction == "minimize" {
                config.set("function", "pow3d").unwrap();
            }
            config.set("valid_max", "1000").unwrap();
            let mut single = Engine::new(config.clone()).unwrap();
            let mut batched = Engine::new(config).unwrap();
            let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
            // Slot k holds network ids[k], last observed at epochs[k].
            let mut ids: Vec<u64> = (0..40).collect();
            let mut epochs = vec![0.0f64; 40];
            let mut fresh = 40u64;
            let (mut judged, mut carried) = (0, 0);
            for step in 0..6000 {
                let r = next();
                let k = (r % 40) as usize;
                if r % 97 == 0 {
                    let a = single.forget(ids[k]).map_err(|e| e.code);
                    let b = batched.forget(ids[k]).map_err(|e| e.code);
                    assert_eq!(a, b, "{direction} step {step}");
                    epochs[k] = 0.0;
                    continue;
                }
                // Mostly half an epoch on; sometimes a jump over rungs,
                // sometimes a refused epoch (not after the previous one).
                let jump = match (r >> 8) % 13 {
                    0 => 6.0,
                    1 => 0.0,
                    _ => 0.5,
                };
                let o = Observation {
                    id: ids[k],
                    epoch: epochs[k] + jump,
                    value: ((r >> 16) % 64) as f64 * 0.25, // some ties
                };
                // The index's thresholds for this call (on a copy of the
                // index: the call itself takes the real one) and the pass's.
                let kept = single.rung_index.clone();
                carried += usize::from(kept.is_some());
                let (from_index, _) = single.single_rungs(o);
                single.rung_index = kept;
                let from_pass = single.rungs(&[o]);
                let bits = |v: &[(f64, f64)]| -> Vec<(u64, u64)> {
                    v.iter().map(|(a, b)| (a.to_bits(), b.to_bits())).collect()
                };
                assert_eq!(
                    bits(&from_index),
                    bits(&from_pass),
                    "{direction} step {step}"
                );
                let a = single.observe(o.id, o.epoch, o.value);
                let b = batched.observe_batch(&[o]).map(|mut v| v.remove(0));
                match (&a, &b) {
                    (Ok(x), Ok(y)) => {
                        // NaN answers compare unequal: compare their spelling.
                        assert_eq!(
                            format!("{x:?}"),
                            format!("{y:?}"),
                            "{direction} step {step}"
                        );
                        epochs[k] = o.epoch;
                        if x.state != State::Continue {
                            judged += usize::from(x.state == State::Converged);
                            // One more call on the stopped network is refused
                            // (AlreadyDecided) by both; then a new network
                            // takes the slot.
                            if r % 3 == 0 {
                                let a = single.observe(o.id, o.epoch + 0.5, 1.0);
                                let b = batched.observe_batch(&[Observation {
                                    epoch: o.epoch + 0.5,
                                    value: 1.0,
                                    ..o
                                }]);
                                assert_eq!(a.unwrap_err().code, b.unwrap_err().code);
                            }
                            ids[k] = fresh;
                            fresh += 1;
                            epochs[k] = 0.0;
                        }
                    }
                    (Err(x), Err(y)) => assert_eq!(x.code, y.code, "{direction} step {step}"),
                    _ => panic!("{direction} step {step}: {a:?} against {b:?}"),
                }
            }
            assert!(judged > 200, "{direction}: only {judged} stops at a rung");
            assert!(
                carried > 3000,
                "{direction}: the index was kept {carried} times"
            );
        }
    }

    #[test]
    fn single_observations_keep_the_cutoffs_of_a_full_pass() {
        let mut config = Config::default();
        config.set("select_top", "5").unwrap();
        config.set("select_stop_reach", "0.75").unwrap();
        config.set("select_hold_observed", "3").unwrap();
        let mut engine = Engine::new(config).unwrap();
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        // 40 curves a - b * exp(-c x) with noise; networks report in a
        // shifting order, some are forgotten, and every fifth epoch goes in
        // one batch.
        let curves: Vec<[f64; 3]> = (0..40)
            .map(|k| {
                [
                    60.0 + (k % 9) as f64 * 4.0,
                    50.0,
                    0.2 + (k % 5) as f64 * 0.1,
                ]
            })
            .collect();
        // Both cutoffs, bit for bit: from the indexes and from a full pass.
        let single = |e: &mut Engine| {
            let (cutoff, shown) = e.single_cutoffs();
            (cutoff.to_bits(), shown.to_bits())
        };
        let full = |e: &Engine| (e.cutoff().to_bits(), e.shown_cutoff().to_bits());
        let mut stopped = [false; 40];
        let mut forgotten = [false; 40];
        for step in 1..=40 {
            let epoch = step as f64 * 0.5;
            let mut batch = Vec::new();
            for j in 0..40 {
                let k = (j * 7 + step) % 40;
                if stopped[k] || forgotten[k] {
                    continue;
                }
                let [a, b, c] = curves[k];
                let noise = (next() % 100) as f64 / 100.0 - 0.5;
                let value = a - b * (-c * epoch).exp() + noise;
                let o = Observation {
                    id: k as u64,
                    epoch,
                    value,
                };
                if step % 5 == 0 {
                    batch.push(o);
                    continue;
                }
                let s = engine.observe(o.id, o.epoch, o.value).unwrap();
                stopped[k] = s.state != State::Continue;
                assert_eq!(
                    single(&mut engine),
                    full(&engine),
                    "epoch {epoch}, network {k}"
                );
                if next() % 50 == 0 {
                    engine.forget(k as u64).unwrap();
                    forgotten[k] = true;
                    assert_eq!(single(&mut engine), full(&engine));
                }
            }
            if !batch.is_empty() {
                for (o, s) in batch.iter().zip(engine.observe_batch(&batch).unwrap()) {
                    stopped[o.id as usize] = s.state != State::Continue;
                }
                assert_eq!(single(&mut engine), full(&engine));
            }
        }
        assert!(engine.cutoff().is_finite(), "the test never had a cutoff");
        assert!(engine.shown_cutoff().is_finite(), "nor a shown cutoff");
    }
}
