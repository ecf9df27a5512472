//! `penguin bench`: the replay of learning curves timed, with the same JSON
//! fields as the SciPy peer (`examples/scipy_peer.py`), and a scale mode that
//! tracks a million networks.

use crate::replay::{Dataset, replay_dataset};
use penguin::config::Config;
use penguin::engine::{Engine, Observation, State, Status};
use penguin::error::{Error, ErrorCode, Result};
use penguin::ffi;
use std::ffi::CString;
use std::time::Instant;

/// What one bench run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// Networks replayed.
    pub models: usize,
    /// Observations Penguin received.
    pub observations: u64,
    /// Least-squares fits performed (one per observation once enough points
    /// exist, whatever the fitter does inside).
    pub fits: u64,
    /// Seconds inside the engine's batch calls, which is fitting and the little
    /// bookkeeping around it (an upper bound on the time spent fitting).
    pub fit_seconds: f64,
    /// Wall time of the whole replay.
    pub replay_seconds: f64,
    /// Mean epoch at which networks stopped.
    pub mean_stop_epoch: f64,
    /// Worker threads of the engine's pool (0 = all cores).
    pub threads: usize,
    /// How many times the replay ran (each from a fresh engine) so that the
    /// timing covers at least a second; the times are means per replay.
    pub repeats: u32,
}

impl BenchReport {
    /// One JSON line with the SciPy peer's fields (and a few more).
    pub fn to_json(&self) -> String {
        let rate = |n: f64, s: f64| if s > 0.0 { n / s } else { f64::NAN };
        format!(
            "{{\"models\": {}, \"observations\": {}, \"fits\": {}, \"fit_seconds\": {:.6}, \"fits_per_second\": {:.3}, \"replay_seconds\": {:.6}, \"observations_per_second\": {:.3}, \"mean_stop_epoch\": {:.4}, \"threads\": {}, \"repeats\": {}, \"engine\": \"penguin {}\"}}",
            self.models,
            self.observations,
            self.fits,
            self.fit_seconds,
            rate(self.fits as f64, self.fit_seconds),
            self.replay_seconds,
            rate(self.observations as f64, self.replay_seconds),
            self.mean_stop_epoch,
            self.threads,
            self.repeats,
            env!("CARGO_PKG_VERSION"),
        )
    }
}

/// Replays every network of the data sets (merged) through the batched engine
/// path in NAS order, timing it.
pub fn run(datasets: &[Dataset], config: &Config) -> Result<BenchReport> {
    let merged = Dataset {
        name: "bench".to_string(),
        networks: datasets.iter().flat_map(|d| d.networks.clone()).collect(),
        skipped_nonfinite: 0,
        skipped_epoch: 0,
        empty_networks: 0,
        train_loss: false,
    };
    // A replay of a small file takes milliseconds: repeat it (from a fresh
    // engine each time, same decisions) until a second has passed, at most 1000
    // times, and report the mean.
    let start = Instant::now();
    let mut outcomes = replay_dataset(&merged, config, &mut |_| {})?;
    let mut repeats = 1u32;
    while start.elapsed().as_secs_f64() < 1.0 && repeats < 1000 {
        outcomes = replay_dataset(&merged, config, &mut |_| {})?;
        repeats += 1;
    }
    let replay_seconds = start.elapsed().as_secs_f64() / f64::from(repeats);
    let stops: Vec<f64> = outcomes
        .iter()
        .map(|o| o.stop_epoch)
        .filter(|e| e.is_finite())
        .collect();
    Ok(BenchReport {
        models: outcomes.len(),
        observations: outcomes.iter().map(|o| u64::from(o.observations)).sum(),
        fits: outcomes.iter().map(|o| u64::from(o.fits)).sum(),
        fit_seconds: replay_seconds,
        replay_seconds,
        mean_stop_epoch: stops.iter().sum::<f64>() / stops.len().max(1) as f64,
        threads: config.threads,
        repeats,
    })
}

/// What the scale mode measured.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleReport {
    /// Networks tracked at the end.
    pub networks: usize,
    /// Observations made.
    pub observations: u64,
    /// Fits performed.
    pub fits: u64,
    /// Wall time of all observations.
    pub seconds: f64,
    /// Peak resident memory of the process (VmHWM), bytes; None off Linux.
    pub peak_rss_bytes: Option<u64>,
    /// Growth of resident memory while the engine filled, per network.
    pub rss_bytes_per_network: Option<f64>,
    /// The engine's own heap estimate (vector capacities and map slots), per
    /// network (None through the C API, which does not tell it).
    pub heap_bytes_per_network: Option<f64>,
    /// Which path the observations took: `rust` (`Engine::observe_batch`),
    /// `c_batch` (`penguin_observe_batch`) or `c_single` (`penguin_observe`,
    /// one call per observation).
    pub path: &'static str,
    /// Mean observations per network.
    pub observations_per_network: f64,
    /// Seconds inside the batch calls that carried a full chunk of networks
    /// (every network of the chunk still training), and how many there were.
    pub full_batch_seconds: f64,
    /// Number of such full batches.
    pub full_batches: usize,
}

impl ScaleReport {
    /// One JSON line.
    pub fn to_json(&self) -> String {
        let opt = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.1}"));
        format!(
            "{{\"networks\": {}, \"observations\": {}, \"fits\": {}, \"seconds\": {:.3}, \"ns_per_observation\": {:.1}, \"peak_rss_bytes\": {}, \"rss_bytes_per_network\": {}, \"heap_bytes_per_network\": {}, \"observations_per_network\": {:.2}, \"full_batches\": {}, \"full_batch_seconds\": {:.3}, \"path\": \"{}\"}}",
            self.networks,
            self.observations,
            self.fits,
            self.seconds,
            1e9 * self.seconds / self.observations.max(1) as f64,
            self.peak_rss_bytes
                .map_or("null".to_string(), |v| v.to_string()),
            opt(self.rss_bytes_per_network),
            opt(self.heap_bytes_per_network),
            self.observations_per_network,
            self.full_batches,
            self.full_batch_seconds,
            self.path,
        )
    }
}

/// Resident set size now and at its peak, in bytes (Linux `/proc/self/status`).
pub fn rss_bytes() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Every curve of the data sets, in order (network k of the scale modes
/// replays curve `k % curves`).
fn all_curves(datasets: &[Dataset]) -> Vec<&crate::replay::Network> {
    datasets.iter().flat_map(|d| d.networks.iter()).collect()
}

/// Feeds `networks` networks, network k replaying curve `k % curves` of the
/// data sets under its own id, to `observe` in NAS order: in chunks of `chunk`
/// networks, one batch per epoch step per chunk with every network of the
/// chunk still training (`full`: all of them). Returns the observations sent.
fn drive(
    datasets: &[Dataset],
    networks: usize,
    chunk: usize,
    mut observe: impl FnMut(&[Observation], bool) -> Result<Vec<Status>>,
) -> Result<u64> {
    let curves = all_curves(datasets);
    let mut observations = 0u64;
    let chunk = chunk.max(1);
    let mut batch: Vec<Observation> = Vec::with_capacity(chunk.min(networks));
    let mut first = 0;
    while first < networks && !curves.is_empty() {
        let last = (first + chunk).min(networks);
        let longest = (first..last)
            .map(|k| curves[k % curves.len()].points.len())
            .max()
            .unwrap_or(0);
        let mut stopped = vec![false; last - first];
        for step in 0..longest {
            batch.clear();
            for k in first..last {
                let c = curves[k % curves.len()];
                if !stopped[k - first]
                    && let Some(p) = c.points.get(step)
                {
                    batch.push(Observation {
                        id: k as u64,
                        epoch: p.epoch,
                        value: p.value,
                    });
                }
            }
            if batch.is_empty() {
                break;
            }
            let statuses = observe(&batch, batch.len() == last - first)?;
            observations += batch.len() as u64;
            for (o, s) in batch.iter().zip(&statuses) {
                if s.state != penguin::engine::State::Continue {
                    stopped[o.id as usize - first] = true;
                }
            }
        }
        first = last;
    }
    Ok(observations)
}

/// Tracks `networks` networks, network k replaying curve `k % curves` of the
/// data sets under its own id, in chunks of `chunk` networks (one batch per
/// epoch step per chunk), and keeps them all in one engine.
pub fn scale(
    datasets: &[Dataset],
    config: &Config,
    networks: usize,
    chunk: usize,
) -> Result<ScaleReport> {
    let mut engine = Engine::new(config.clone())?;
    let before = rss_bytes().map(|r| r.0);
    let start = Instant::now();
    let (mut full_batch_seconds, mut full_batches) = (0.0, 0usize);
    let observations = drive(datasets, networks, chunk, |batch, full| {
        let call = Instant::now();
        let statuses = engine.observe_batch(batch)?;
        if full {
            full_batch_seconds += call.elapsed().as_secs_f64();
            full_batches += 1;
        }
        Ok(statuses)
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let after = rss_bytes();
    let fits: u64 = engine.networks().values().map(|n| u64::from(n.fits)).sum();
    let n = engine.len().max(1) as f64;
    Ok(ScaleReport {
        networks: engine.len(),
        observations,
        fits,
        seconds,
        peak_rss_bytes: after.map(|r| r.1),
        rss_bytes_per_network: match (before, after) {
            (Some(b), Some((a, _))) => Some((a.saturating_sub(b)) as f64 / n),
            _ => None,
        },
        heap_bytes_per_network: Some(engine.heap_bytes() as f64 / n),
        observations_per_network: observations as f64 / n,
        full_batch_seconds,
        full_batches,
        path: "rust",
    })
}

/// Which C API call the scale mode drives (`penguin bench --c-api`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CApi {
    /// `penguin_observe`, one call per observation.
    Single,
    /// `penguin_observe_batch`, one call per batch.
    Batch,
}

/// An engine made and driven through the C API, as a C caller would; freed
/// when dropped.
struct CEngine(*mut ffi::penguin_t);

impl CEngine {
    /// `penguin_config_new`, `penguin_config_set` for every key of `config`,
    /// `penguin_new`.
    fn new(config: &Config) -> Result<CEngine> {
        let fail = |what: &str| Error::new(ErrorCode::Internal, format!("C API: {what} failed"));
        let mut cfg: *mut ffi::penguin_config_t = std::ptr::null_mut();
        if ffi::penguin_config_new(&mut cfg) != ffi::PENGUIN_OK {
            return Err(fail("penguin_config_new"));
        }
        let mut ok = true;
        for (k, v) in config.pairs() {
            let (k, v) = (CString::new(k), CString::new(v));
            let (Ok(k), Ok(v)) = (k, v) else {
                ok = false;
                break;
            };
            ok &= ffi::penguin_config_set(cfg, k.as_ptr(), v.as_ptr()) == ffi::PENGUIN_OK;
        }
        let mut engine: *mut ffi::penguin_t = std::ptr::null_mut();
        ok = ok && ffi::penguin_new(cfg, &mut engine) == ffi::PENGUIN_OK;
        ffi::penguin_config_free(cfg);
        if ok {
            Ok(CEngine(engine))
        } else {
            Err(fail("configuration"))
        }
    }
}

impl Drop for CEngine {
    fn drop(&mut self) {
        ffi::penguin_free(self.0);
    }
}

/// [`scale`] through the C API (`penguin_observe` one call per observation,
/// or `penguin_observe_batch`), for the cost of the C boundary on the hot path.
pub fn scale_c_api(
    datasets: &[Dataset],
    config: &Config,
    networks: usize,
    chunk: usize,
    path: CApi,
) -> Result<ScaleReport> {
    let engine = CEngine::new(config)?;
    let failed = |call: &str, code: i32| {
        Error::new(
            ErrorCode::Internal,
            format!("{call} returned {code}: {}", last_error_message()),
        )
    };
    let before = rss_bytes().map(|r| r.0);
    let start = Instant::now();
    let (mut full_batch_seconds, mut full_batches) = (0.0, 0usize);
    let (mut ids, mut epochs, mut values) = (Vec::new(), Vec::new(), Vec::new());
    let mut out: Vec<ffi::penguin_nn_status_t> = Vec::new();
    let observations = drive(datasets, networks, chunk, |batch, full| {
        let call = Instant::now();
        let mut st = ffi::penguin_nn_status_t::default();
        out.resize(batch.len(), st);
        match path {
            CApi::Single => {
                for (o, s) in batch.iter().zip(out.iter_mut()) {
                    let code = ffi::penguin_observe(engine.0, o.id, o.epoch, o.value, &mut st);
                    if code != ffi::PENGUIN_OK {
                        return Err(failed("penguin_observe", code));
                    }
                    *s = st;
                }
            }
            CApi::Batch => {
                ids.clear();
                epochs.clear();
                values.clear();
                ids.extend(batch.iter().map(|o| o.id));
                epochs.extend(batch.iter().map(|o| o.epoch));
                values.extend(batch.iter().map(|o| o.value));
                let code = ffi::penguin_observe_batch(
                    engine.0,
                    batch.len(),
                    ids.as_ptr(),
                    epochs.as_ptr(),
                    values.as_ptr(),
                    out.as_mut_ptr(),
                );
                if code != ffi::PENGUIN_OK {
                    return Err(failed("penguin_observe_batch", code));
                }
            }
        }
        if full {
            full_batch_seconds += call.elapsed().as_secs_f64();
            full_batches += 1;
        }
        Ok(out.iter().map(|s| state_of(s.state)).collect())
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let after = rss_bytes();
    let mut count = 0usize;
    ffi::penguin_network_count(engine.0, &mut count);
    let mut fits = 0u64;
    let mut st = ffi::penguin_nn_status_t::default();
    for id in 0..count as u64 {
        if ffi::penguin_status(engine.0, id, &mut st) == ffi::PENGUIN_OK {
            fits += u64::from(st.fits);
        }
    }
    let n = count.max(1) as f64;
    Ok(ScaleReport {
        networks: count,
        observations,
        fits,
        seconds,
        peak_rss_bytes: after.map(|r| r.1),
        rss_bytes_per_network: match (before, after) {
            (Some(b), Some((a, _))) => Some((a.saturating_sub(b)) as f64 / n),
            _ => None,
        },
        heap_bytes_per_network: None,
        observations_per_network: observations as f64 / n,
        full_batch_seconds,
        full_batches,
        path: match path {
            CApi::Single => "c_single",
            CApi::Batch => "c_batch",
        },
    })
}

/// A status with only its state, as [`drive`] needs it.
fn state_of(state: i32) -> Status {
    Status {
        state: match state {
            ffi::PENGUIN_CONTINUE => State::Continue,
            ffi::PENGUIN_CONVERGED => State::Converged,
            _ => State::ReachedEPred,
        },
        ..Status::EMPTY
    }
}

/// The calling thread's last C API error message.
fn last_error_message() -> String {
    let mut buf = vec![0u8; 512];
    let n = ffi::penguin_last_error_message(buf.as_mut_ptr().cast(), buf.len());
    buf.truncate(n.min(buf.len() - 1));
    String::from_utf8_lossy(&buf).into_owned()
}

/// What the thread-scaling mode measured: the same scale run on one thread and
/// on the configured thread count, alternated round by round so that the
/// machine's drift hits both alike.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingReport {
    /// Networks per run.
    pub networks: usize,
    /// Fits per run (the same in every run).
    pub fits: u64,
    /// The thread count compared with one (0 = all cores, resolved).
    pub threads: usize,
    /// Wall seconds of each one-thread run, in order.
    pub seconds_one_thread: Vec<f64>,
    /// Wall seconds of each run on `threads`, in order.
    pub seconds_threads: Vec<f64>,
    /// Seconds of each one-thread run inside its full batches (every network
    /// of the chunk in one call), in order.
    pub full_batch_seconds_one_thread: Vec<f64>,
    /// The same for the runs on `threads`.
    pub full_batch_seconds_threads: Vec<f64>,
    /// For comparison, wall seconds of `threads` independent one-thread
    /// engines, each with `networks / threads` networks, run side by side in
    /// as many threads: how far the machine itself scales this work.
    pub seconds_independent: Vec<f64>,
    /// Seconds of the one-thread engine of each round's lockstep run (two
    /// engines fed the same batches, each batch timed on both in turn).
    pub lockstep_seconds_one_thread: Vec<f64>,
    /// Seconds of the many-thread engine of each round's lockstep run.
    pub lockstep_seconds_threads: Vec<f64>,
    /// Networks in the single batch (one call in which every entry fits).
    pub single_batch_networks: usize,
    /// Seconds of each timing of the single batch on one thread, in order.
    pub single_batch_seconds_one_thread: Vec<f64>,
    /// Seconds of each timing of the single batch on `threads`, in order.
    pub single_batch_seconds_threads: Vec<f64>,
    /// Seconds of each timing of [`machine_work`] on one thread, in order.
    pub machine_seconds_one_thread: Vec<f64>,
    /// Seconds of `threads` copies of [`machine_work`] run side by side, one
    /// per thread, in order.
    pub machine_seconds_threads: Vec<f64>,
}

impl ScalingReport {
    /// Median one-thread time over median many-thread time.
    pub fn speedup(&self) -> f64 {
        median(&self.seconds_one_thread) / median(&self.seconds_threads)
    }

    /// The same ratio for the time inside full batches only.
    pub fn speedup_full_batches(&self) -> f64 {
        median(&self.full_batch_seconds_one_thread) / median(&self.full_batch_seconds_threads)
    }

    /// Median one-thread time over the median time of the independent engines.
    pub fn speedup_independent(&self) -> f64 {
        median(&self.seconds_one_thread) / median(&self.seconds_independent)
    }

    /// The same ratio for the lockstep runs: the least disturbed by the
    /// machine's drift, which both engines see within milliseconds.
    pub fn speedup_lockstep(&self) -> f64 {
        median(&self.lockstep_seconds_one_thread) / median(&self.lockstep_seconds_threads)
    }

    /// The same ratio for the single batch of `networks` fitting networks.
    pub fn speedup_single_batch(&self) -> f64 {
        median(&self.single_batch_seconds_one_thread) / median(&self.single_batch_seconds_threads)
    }

    /// How far the machine itself scales work that shares nothing: `threads`
    /// times the median one-thread time of [`machine_work`] over the median
    /// time of `threads` copies side by side (2.0 on two idle cores of their
    /// own; less where the virtual CPUs share physical ones or the host is busy).
    pub fn speedup_machine(&self) -> f64 {
        self.threads as f64 * median(&self.machine_seconds_one_thread)
            / median(&self.machine_seconds_threads)
    }

    /// One JSON line.
    pub fn to_json(&self) -> String {
        let list = |v: &[f64]| {
            v.iter()
                .map(|s| format!("{s:.6}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let per_round: Vec<f64> = self
            .seconds_one_thread
            .iter()
            .zip(&self.seconds_threads)
            .map(|(a, b)| a / b)
            .collect();
        format!(
            "{{\"networks\": {}, \"fits\": {}, \"threads\": {}, \"rounds\": {}, \"seconds_one_thread\": [{}], \"seconds_threads\": [{}], \"speedup_per_round\": [{}], \"speedup_of_medians\": {:.3}, \"seconds_independent\": [{}], \"speedup_independent_of_medians\": {:.3}, \"full_batch_seconds_one_thread\": [{}], \"full_batch_seconds_threads\": [{}], \"speedup_full_batches_of_medians\": {:.3}, \"lockstep_seconds_one_thread\": [{}], \"lockstep_seconds_threads\": [{}], \"speedup_lockstep_of_medians\": {:.3}, \"single_batch_networks\": {}, \"single_batch_seconds_one_thread\": [{}], \"single_batch_seconds_threads\": [{}], \"speedup_single_batch_of_medians\": {:.3}, \"machine_seconds_one_thread\": [{}], \"machine_seconds_threads\": [{}], \"speedup_machine_of_medians\": {:.3}}}",
            self.networks,
            self.fits,
            self.threads,
            self.seconds_one_thread.len(),
            list(&self.seconds_one_thread),
            list(&self.seconds_threads),
            list(&per_round),
            self.speedup(),
            list(&self.seconds_independent),
            self.speedup_independent(),
            list(&self.full_batch_seconds_one_thread),
            list(&self.full_batch_seconds_threads),
            self.speedup_full_batches(),
            list(&self.lockstep_seconds_one_thread),
            list(&self.lockstep_seconds_threads),
            self.speedup_lockstep(),
            self.single_batch_networks,
            list(&self.single_batch_seconds_one_thread),
            list(&self.single_batch_seconds_threads),
            self.speedup_single_batch(),
            list(&self.machine_seconds_one_thread),
            list(&self.machine_seconds_threads),
            self.speedup_machine(),
        )
    }
}

/// Runs `work(k)` for k in 0..threads, one per thread, side by side; returns
/// their results and the wall seconds until the last one ended.
fn side_by_side<T: Send>(threads: usize, work: impl Fn(usize) -> T + Sync) -> (Vec<T>, f64) {
    let start = Instant::now();
    let results = std::thread::scope(|s| {
        let work = &work;
        let runs: Vec<_> = (0..threads).map(|k| s.spawn(move || work(k))).collect();
        runs.into_iter()
            .map(|r| r.join().expect("a side-by-side thread panicked"))
            .collect()
    });
    (results, start.elapsed().as_secs_f64())
}

/// A fixed piece of integer work on its own 64 bytes of stack (eight
/// independent multiply chains, about 0.08 s on one core of the development
/// VM): the machine's own scaling, with no engine, allocator or shared data
/// involved.
pub fn machine_work(seed: u64) -> u64 {
    let mut x = [seed; 8];
    for (k, v) in x.iter_mut().enumerate() {
        *v = v.wrapping_add(k as u64);
    }
    for _ in 0..MACHINE_WORK_STEPS {
        for (k, v) in x.iter_mut().enumerate() {
            *v = v
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(2 * k as u64 + 1);
        }
        // Keeps the loop from being folded away.
        x = std::hint::black_box(x);
    }
    x.iter().fold(0, |a, v| a ^ v)
}

/// Iterations of [`machine_work`].
const MACHINE_WORK_STEPS: u64 = 30_000_000;

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        k if k % 2 == 1 => v[k / 2],
        k => 0.5 * (v[k / 2 - 1] + v[k / 2]),
    }
}

/// An engine configured `one` and an engine configured `many` fed the same
/// batches ([`drive`]); each batch is timed on both, the order swapped every
/// batch, so that whatever else the machine does hits both alike. Returns the
/// seconds inside each engine's calls; fails if their decisions differ.
fn lockstep(
    datasets: &[Dataset],
    one: &Config,
    many: &Config,
    networks: usize,
    chunk: usize,
) -> Result<(f64, f64)> {
    let mut engines = [Engine::new(one.clone())?, Engine::new(many.clone())?];
    let mut seconds = [0.0; 2];
    let mut flip = false;
    drive(datasets, networks, chunk, |batch, _| {
        flip = !flip;
        let (t, statuses) = time_on_both(&mut engines, flip, batch, |_| {})?;
        seconds[0] += t[0];
        seconds[1] += t[1];
        Ok(statuses)
    })?;
    Ok((seconds[0], seconds[1]))
}

/// Times one batch call on each of two engines (the first one first when
/// `first_first`, else the second), after `prepare` (untimed) on each; fails
/// if they decide differently. Returns the seconds of each and the first
/// engine's statuses.
fn time_on_both(
    engines: &mut [Engine; 2],
    first_first: bool,
    batch: &[Observation],
    mut prepare: impl FnMut(&mut Engine),
) -> Result<([f64; 2], Vec<Status>)> {
    let order = if first_first { [0, 1] } else { [1, 0] };
    let mut seconds = [0.0; 2];
    let mut statuses: [Vec<Status>; 2] = Default::default();
    for k in order {
        prepare(&mut engines[k]);
        let call = Instant::now();
        statuses[k] = engines[k].observe_batch(batch)?;
        seconds[k] = call.elapsed().as_secs_f64();
    }
    let key = |s: &Status| (s.state, s.fits, s.prediction.to_bits());
    if !statuses[0].iter().map(key).eq(statuses[1].iter().map(key)) {
        return Err(penguin::error::Error::new(
            penguin::error::ErrorCode::Internal,
            "scaling: the one-thread and many-thread engines decided differently",
        ));
    }
    let [first, _] = statuses;
    Ok((seconds, first))
}

/// Timings of the single batch, and of the machine's own work, per round of
/// the scaling mode.
const TIMINGS_PER_ROUND: usize = 5;

/// The literal case, "a batch of N networks": one engine state in
/// which each of `networks` networks (curve `k % curves`, as in [`scale`]) has
/// seen its curve up to the observation on which Penguin stops it, and one
/// batch carrying that observation for every network, so that every entry
/// fits (networks with too few points for a fit, or stopped earlier by the
/// cohort, are left out: `single_batch_networks` says how many remain).
/// [`SingleBatch::time`] restores that state (untimed) and times the one call
/// on a one-thread and on a many-thread engine, in turn.
struct SingleBatch {
    table: penguin::networks::NetworkTable,
    batch: Vec<Observation>,
    engines: [Engine; 2],
    flip: bool,
}

impl SingleBatch {
    fn new(datasets: &[Dataset], one: &Config, many: &Config, networks: usize) -> Result<Self> {
        let curves = all_curves(datasets);
        // Where Penguin stops each distinct curve (index of that observation).
        let mut stop = Vec::with_capacity(curves.len());
        for c in &curves {
            let mut e = Engine::new(one.clone())?;
            let mut at = c.points.len().saturating_sub(1);
            for (i, p) in c.points.iter().enumerate() {
                if e.observe(0, p.epoch, p.value)?.state != penguin::engine::State::Continue {
                    at = i;
                    break;
                }
            }
            stop.push(at);
        }
        // The networks side by side up to there. In a cohort a network may stop
        // earlier than alone (select_top): it is then left out from there on.
        let mut state = Engine::new(many.clone())?;
        let count = if curves.is_empty() { 0 } else { networks };
        let mut training = vec![true; count];
        let longest = stop.iter().copied().max().unwrap_or(0);
        let entry = |k: usize, step: usize| {
            let p = &curves[k % curves.len()].points[step];
            Observation {
                id: k as u64,
                epoch: p.epoch,
                value: p.value,
            }
        };
        for step in 0..longest {
            let prefix: Vec<Observation> = (0..count)
                .filter(|&k| training[k] && step < stop[k % curves.len()])
                .map(|k| entry(k, step))
                .collect();
            for (o, s) in prefix.iter().zip(state.observe_batch(&prefix)?) {
                training[o.id as usize] = s.state == penguin::engine::State::Continue;
            }
        }
        // Those with enough points to fit, still training.
        let min_points = one.min_points();
        let batch: Vec<Observation> = (0..count)
            .filter(|&k| training[k] && stop[k % curves.len()] + 1 >= min_points)
            .map(|k| entry(k, stop[k % curves.len()]))
            .collect();
        let mut single = SingleBatch {
            table: state.networks().clone(),
            batch,
            engines: [Engine::new(one.clone())?, Engine::new(many.clone())?],
            flip: false,
        };
        // Once untimed: starts the pool and checks that both decide alike.
        single.time()?;
        Ok(single)
    }

    /// Restores the state in both engines (untimed) and times the batch on
    /// each, the order swapped every call. Returns (one thread, many).
    fn time(&mut self) -> Result<(f64, f64)> {
        self.flip = !self.flip;
        let table = &self.table;
        let (seconds, _) = time_on_both(&mut self.engines, self.flip, &self.batch, |e| {
            drop(e.replace_networks(table.clone()))
        })?;
        Ok((seconds[0], seconds[1]))
    }
}

/// Runs [`scale`] `rounds` times on one thread and `rounds` times on the
/// configured thread count (0 = all cores), alternated, each from a fresh
/// engine (so each many-thread run includes starting its pool, well under a
/// millisecond); checks that every run made the same fits. Each round also
/// times `threads` independent one-thread engines with a share of the
/// networks each, side by side, for comparison, runs `lockstep`, times
/// `SingleBatch` five times, and five times [`machine_work`] on one thread
/// and `threads` copies of it side by side.
pub fn scaling(
    datasets: &[Dataset],
    config: &Config,
    networks: usize,
    chunk: usize,
    rounds: usize,
) -> Result<ScalingReport> {
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        k => k,
    };
    let one = Config {
        threads: 1,
        ..config.clone()
    };
    let many = Config {
        threads,
        ..config.clone()
    };
    let mut report = ScalingReport {
        networks,
        fits: 0,
        threads,
        seconds_one_thread: Vec::with_capacity(rounds),
        seconds_threads: Vec::with_capacity(rounds),
        seconds_independent: Vec::with_capacity(rounds),
        full_batch_seconds_one_thread: Vec::with_capacity(rounds),
        full_batch_seconds_threads: Vec::with_capacity(rounds),
        lockstep_seconds_one_thread: Vec::with_capacity(rounds),
        lockstep_seconds_threads: Vec::with_capacity(rounds),
        single_batch_networks: 0,
        single_batch_seconds_one_thread: Vec::with_capacity(rounds * TIMINGS_PER_ROUND),
        single_batch_seconds_threads: Vec::with_capacity(rounds * TIMINGS_PER_ROUND),
        machine_seconds_one_thread: Vec::with_capacity(rounds * TIMINGS_PER_ROUND),
        machine_seconds_threads: Vec::with_capacity(rounds * TIMINGS_PER_ROUND),
    };
    let mut single = SingleBatch::new(datasets, &one, &many, networks)?;
    report.single_batch_networks = single.batch.len();
    let share = (networks / threads).max(1);
    let mut fits: Option<u64> = None;
    for _ in 0..rounds {
        for (config, times, full) in [
            (
                &one,
                &mut report.seconds_one_thread,
                &mut report.full_batch_seconds_one_thread,
            ),
            (
                &many,
                &mut report.seconds_threads,
                &mut report.full_batch_seconds_threads,
            ),
        ] {
            let r = scale(datasets, config, networks, chunk)?;
            let first = *fits.get_or_insert(r.fits);
            if first != r.fits {
                return Err(penguin::error::Error::new(
                    penguin::error::ErrorCode::Internal,
                    format!("scaling: a run made {} fits, the first {first}", r.fits),
                ));
            }
            times.push(r.seconds);
            full.push(r.full_batch_seconds);
        }
        let (runs, seconds) = side_by_side(threads, |_| {
            scale(datasets, &one, share, chunk.div_ceil(threads))
        });
        runs.into_iter().collect::<Result<Vec<_>>>()?;
        report.seconds_independent.push(seconds);
        let (a, b) = lockstep(datasets, &one, &many, networks, chunk)?;
        report.lockstep_seconds_one_thread.push(a);
        report.lockstep_seconds_threads.push(b);
        for _ in 0..TIMINGS_PER_ROUND {
            let (a, b) = single.time()?;
            report.single_batch_seconds_one_thread.push(a);
            report.single_batch_seconds_threads.push(b);
        }
        for _ in 0..TIMINGS_PER_ROUND {
            let start = Instant::now();
            std::hint::black_box(machine_work(1));
            report
                .machine_seconds_one_thread
                .push(start.elapsed().as_secs_f64());
            let (results, seconds) = side_by_side(threads, |k| machine_work(k as u64 + 1));
            std::hint::black_box(results);
            report.machine_seconds_threads.push(seconds);
        }
    }
    report.fits = fits.unwrap_or(0);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(
        one: &[f64],
        many: &[f64],
        machine_one: &[f64],
        machine_many: &[f64],
    ) -> ScalingReport {
        ScalingReport {
            networks: 10,
            fits: 0,
            threads: 2,
            seconds_one_thread: one.to_vec(),
            seconds_threads: many.to_vec(),
            full_batch_seconds_one_thread: one.to_vec(),
            full_batch_seconds_threads: many.to_vec(),
            seconds_independent: many.to_vec(),
            lockstep_seconds_one_thread: one.to_vec(),
            lockstep_seconds_threads: many.to_vec(),
            single_batch_networks: 10,
            single_batch_seconds_one_thread: one.to_vec(),
            single_batch_seconds_threads: many.to_vec(),
            machine_seconds_one_thread: machine_one.to_vec(),
            machine_seconds_threads: machine_many.to_vec(),
        }
    }

    #[test]
    fn speedups_are_ratios_of_medians_and_the_machine_counts_its_copies() {
        // Medians 2.0 and 1.0 (the outliers do not count).
        let r = report(
            &[2.0, 9.0, 1.9, 2.0, 2.1],
            &[1.0, 0.1, 5.0],
            &[0.1, 0.1, 0.5],
            &[0.1, 0.2, 0.2],
        );
        assert_eq!(r.speedup(), 2.0);
        assert_eq!(r.speedup_single_batch(), 2.0);
        assert_eq!(r.speedup_lockstep(), 2.0);
        // Two copies of the work in the time of one: 2.0; in twice the time: 1.0.
        assert_eq!(r.speedup_machine(), 1.0);
        let r = report(&[1.0], &[1.0], &[0.1, 0.1], &[0.1, 0.1]);
        assert_eq!(r.speedup_machine(), 2.0);
        assert!(
            r.to_json()
                .contains("\"speedup_machine_of_medians\": 2.000")
        );
    }

    #[test]
    fn the_machine_work_depends_on_its_seed_only() {
        assert_eq!(machine_work(1), machine_work(1));
        assert_ne!(machine_work(1), machine_work(2));
    }
}
