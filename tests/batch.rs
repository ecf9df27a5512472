//! The batched path: identical to one-by-one observation, whatever the thread
//! count; all or nothing on a bad entry; engines independent across threads.

use penguin::curves::{CurveColumns, Table, read_curves};
use penguin::{Config, Engine, ErrorCode, Observation, State, Status};

fn curves() -> Vec<(Vec<f64>, Vec<f64>)> {
    let text = include_str!("data/fmnist_random_cnn.csv");
    read_curves(&Table::parse(text).unwrap(), &CurveColumns::default())
        .unwrap()
        .into_iter()
        .map(|c| {
            c.epochs
                .iter()
                .zip(&c.values)
                .filter(|(_, v)| v.is_finite())
                .map(|(e, v)| (*e, *v))
                .unzip()
        })
        .collect()
}

fn key(s: &Status) -> (State, u64, u64, u64, u32, u32, Vec<u64>) {
    (
        s.state,
        s.prediction.to_bits(),
        s.fit_prediction.to_bits(),
        s.epoch.to_bits(),
        s.observations,
        s.fits,
        s.params.iter().map(|p| p.to_bits()).collect(),
    )
}

/// A validation loss for network `id`'s observation `k` of value `v` (with
/// `with_loss`; else NaN, not reported): falling as the accuracy rises above
/// chance, flat with a little noise at chance.
fn loss(with_loss: bool, id: usize, k: usize, v: f64) -> f64 {
    if !with_loss {
        return f64::NAN;
    }
    2.3 - 0.02 * (v - 10.0).max(0.0) + 0.001 * ((id * 7 + k * 3) % 5) as f64
}

/// Every network observed one by one until it stops.
fn one_by_one(
    config: &Config,
    curves: &[(Vec<f64>, Vec<f64>)],
    with_loss: bool,
) -> Vec<Vec<Status>> {
    let mut e = Engine::new(config.clone()).unwrap();
    curves
        .iter()
        .enumerate()
        .map(|(id, (ep, va))| {
            let mut out = Vec::new();
            for (k, (x, y)) in ep.iter().zip(va).enumerate() {
                let l = loss(with_loss, id, k, *y);
                let s = e.observe_with_loss(id as u64, *x, *y, l).unwrap();
                let stop = s.state != State::Continue;
                out.push(s);
                if stop {
                    break;
                }
            }
            out
        })
        .collect()
}

/// The same networks in NAS order: the first batch carries each network's first
/// three observations (epochs <= N*E, where the default configuration makes no
/// decision, so a network appears three times in one batch), then one batch per
/// epoch step with every network still training (losses as [`loss`]). With `stagger`, network `id` joins at step
/// `id % 5` with one observation per batch, so that batches mix new networks,
/// networks with too few points to fit and networks that fit.
fn batched(
    config: &Config,
    curves: &[(Vec<f64>, Vec<f64>)],
    stagger: bool,
    with_loss: bool,
) -> Vec<Vec<Status>> {
    let mut e = Engine::new(config.clone()).unwrap();
    let mut out: Vec<Vec<Status>> = vec![Vec::new(); curves.len()];
    let mut next = vec![0usize; curves.len()];
    let mut step = 0;
    loop {
        let mut batch = Vec::new();
        let mut losses = Vec::new();
        for (id, (ep, va)) in curves.iter().enumerate() {
            let stopped = out[id].last().is_some_and(|s| s.state != State::Continue);
            if stagger && step < id % 5 {
                continue;
            }
            let k = if step == 0 && !stagger { 3 } else { 1 };
            for _ in 0..k {
                if !stopped && next[id] < ep.len() {
                    batch.push(Observation {
                        id: id as u64,
                        epoch: ep[next[id]],
                        value: va[next[id]],
                    });
                    losses.push(loss(with_loss, id, next[id], va[next[id]]));
                    next[id] += 1;
                }
            }
        }
        step += 1;
        if batch.is_empty() && (!stagger || step > 5) {
            break;
        }
        let statuses = e.observe_batch_with_loss(&batch, Some(&losses)).unwrap();
        assert_eq!(statuses.len(), batch.len());
        for (o, s) in batch.iter().zip(statuses) {
            out[o.id as usize].push(s);
        }
    }
    out
}

#[test]
fn batches_decide_exactly_as_single_observations_for_any_thread_count() {
    let curves = curves();
    // The default configuration; one that fits from the first point (new
    // networks go to the pool); one with the never-learner stop at the third
    // value (which can stop a network on the last of its first three entries);
    // the same with the late-bloomer guard and validation losses.
    let guard: &[(&str, &str)] = &[
        ("chance_level", "10"),
        ("chance_patience", "3"),
        ("loss_patience", "2"),
        ("loss_min_delta", "0.001"),
    ];
    let variants: [(&[(&str, &str)], bool); 4] = [
        (&[], false),
        (&[("min_points", "1")], false),
        (&[("chance_level", "10"), ("chance_patience", "3")], false),
        (guard, true),
    ];
    for (keys, with_loss) in variants {
        let mut base = Config::default();
        for (k, v) in keys {
            base.set(k, v).unwrap();
        }
        compare_batched_with_one_by_one(&base, &curves, with_loss);
    }
}

fn compare_batched_with_one_by_one(
    base: &Config,
    curves: &[(Vec<f64>, Vec<f64>)],
    with_loss: bool,
) {
    let reference = one_by_one(base, curves, with_loss);
    for threads in ["1", "2", "0"] {
        for stagger in [false, true] {
            let mut c = base.clone();
            c.set("threads", threads).unwrap();
            let b = batched(&c, curves, stagger, with_loss);
            assert_eq!(b.len(), reference.len());
            for (id, (x, y)) in b.iter().zip(&reference).enumerate() {
                let kx: Vec<_> = x.iter().map(key).collect();
                let ky: Vec<_> = y.iter().map(key).collect();
                assert_eq!(
                    kx,
                    ky,
                    "network {id}, threads = {threads}, stagger {stagger}, {}",
                    base.to_text()
                );
            }
        }
    }
}

#[test]
fn a_bad_entry_fails_the_whole_batch_and_changes_nothing() {
    let mut e = Engine::new(Config::default()).unwrap();
    e.observe(1, 0.5, 10.0).unwrap();
    let before = penguin::state::to_bytes(&e);
    for (bad, code) in [
        (
            Observation {
                id: 3,
                epoch: f64::NAN,
                value: 1.0,
            },
            ErrorCode::InvalidEpoch,
        ),
        (
            Observation {
                id: 3,
                epoch: 1.0,
                value: f64::INFINITY,
            },
            ErrorCode::InvalidFitness,
        ),
        (
            Observation {
                id: 1,
                epoch: 0.5,
                value: 1.0,
            },
            ErrorCode::EpochNotIncreasing,
        ),
    ] {
        let batch = [
            Observation {
                id: 2,
                epoch: 0.5,
                value: 10.0,
            },
            Observation {
                id: 1,
                epoch: 1.0,
                value: 11.0,
            },
            bad,
        ];
        let err = e.observe_batch(&batch).unwrap_err();
        assert_eq!(err.code, code);
        assert!(err.message.contains("batch entry 2"), "{}", err.message);
        assert_eq!(penguin::state::to_bytes(&e), before, "engine changed");
    }
    assert!(e.observe_batch(&[]).unwrap().is_empty());
}

#[test]
fn eight_engines_in_eight_threads_run_independently() {
    let curves = curves();
    let reference = one_by_one(&Config::default(), &curves[..16], false);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| one_by_one(&Config::default(), &curves[..16], false)))
            .collect();
        for h in handles {
            let r = h.join().unwrap();
            for (x, y) in r.iter().zip(&reference) {
                let kx: Vec<_> = x.iter().map(key).collect();
                let ky: Vec<_> = y.iter().map(key).collect();
                assert_eq!(kx, ky);
            }
        }
    });
}

/// A function whose evaluation panics (as a buggy user-defined function might).
#[derive(Debug)]
struct Panicking;

impl penguin::functions::Model for Panicking {
    fn name(&self) -> &str {
        "panicking"
    }
    fn n_params(&self) -> usize {
        2
    }
    fn eval(&self, _x: &[f64], _p: &[f64], _y: &mut [f64]) -> bool {
        panic!("a user-defined function panicked")
    }
    fn jacobian(&self, _x: &[f64], _p: &[f64], _j: &mut [f64]) -> bool {
        panic!("a user-defined function panicked")
    }
    fn default_p0(&self) -> Option<Vec<f64>> {
        Some(vec![1.0, 1.0])
    }
}

/// An engine whose function is [`Panicking`], on `threads` threads.
fn panicking_engine(threads: &str) -> Engine {
    let mut c = Config::default();
    c.register_function(std::sync::Arc::new(Panicking)).unwrap();
    c.set("threads", threads).unwrap();
    Engine::new(c).unwrap()
}

#[test]
fn a_panicking_fit_in_single_entries_restores_the_network_that_panicked() {
    // Sixteen networks with one entry each: the fits run in their slots on the
    // pool (threads = 2) or one after the other (threads = 1). The panic goes
    // on; no network is lost, and none is left half updated: each has its
    // first point and at most its second, with a fit count to match.
    for threads in ["1", "2"] {
        let mut e = panicking_engine(threads);
        let at = |epoch: f64| -> Vec<Observation> {
            (0..16)
                .map(|id| Observation {
                    id,
                    epoch,
                    value: 20.0,
                })
                .collect()
        };
        e.observe_batch(&at(0.5)).unwrap();
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.observe_batch(&at(1.0))));
        assert!(caught.is_err(), "threads {threads}: the panic goes on");
        assert_eq!(e.len(), 16, "threads {threads}");
        for id in 0..16 {
            let net = &e.networks()[&id];
            // Every fit of this function panics: no network keeps the point
            // whose fit panicked, nor its fit count.
            assert_eq!(net.epochs, [0.5], "threads {threads}: network {id}");
            assert_eq!(net.values.len(), 1, "threads {threads}: network {id}");
            assert_eq!(net.fits, 0, "threads {threads}: network {id}");
        }
        // And the engine goes on: the same entry again panics again, no other error.
        let again =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.observe_batch(&at(1.0))));
        assert!(again.is_err(), "threads {threads}");
    }
}

#[test]
fn a_panicking_fit_leaves_every_network_tracked_with_its_history() {
    for threads in ["1", "2"] {
        let mut e = panicking_engine(threads);
        // One point each: no fit yet (two parameters need two points).
        let first: Vec<Observation> = (0..4)
            .map(|id| Observation {
                id,
                epoch: 0.5,
                value: 20.0,
            })
            .collect();
        e.observe_batch(&first).unwrap();
        // Network 0 with two entries (the rolled-back path), 1-3 with one.
        let mut next = vec![Observation {
            id: 0,
            epoch: 1.0,
            value: 30.0,
        }];
        next.extend((0..4).map(|id| Observation {
            id,
            epoch: if id == 0 { 1.5 } else { 1.0 },
            value: 30.0,
        }));
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.observe_batch(&next)));
        assert!(caught.is_err(), "threads {threads}: the panic goes on");
        assert_eq!(e.len(), 4, "threads {threads}");
        for id in 0..4 {
            let s = e.status(id).unwrap();
            assert!(
                s.observations >= 1 && s.epoch >= 0.5,
                "threads {threads}: network {id} lost its history: {s:?}"
            );
            assert!(e.networks()[&id].best_loss.is_nan());
        }
        // The network with several entries is restored exactly.
        assert_eq!(e.status(0).unwrap().observations, 1, "threads {threads}");
    }
}

#[test]
fn networks_whose_slots_are_not_in_id_order_decide_as_one_by_one() {
    // Networks arrive in reverse id order (so slot order is the reverse of the
    // id order a batch is sorted by), and some are forgotten and re-added
    // (moving others between slots); then batches as a NAS sends them.
    let curves = curves();
    let reference = one_by_one(&Config::default(), &curves, false);
    for threads in ["1", "2"] {
        let mut c = Config::default();
        c.set("threads", threads).unwrap();
        let mut e = Engine::new(c).unwrap();
        let mut out: Vec<Vec<Status>> = vec![Vec::new(); curves.len()];
        for (id, (ep, va)) in curves.iter().enumerate().rev() {
            out[id].push(e.observe(id as u64, ep[0], va[0]).unwrap());
        }
        for id in (0..curves.len()).step_by(7) {
            e.forget(id as u64).unwrap();
            let (ep, va) = &curves[id];
            out[id] = vec![e.observe(id as u64, ep[0], va[0]).unwrap()];
        }
        for step in 1.. {
            let batch: Vec<Observation> = curves
                .iter()
                .enumerate()
                .filter(|(id, (ep, _))| {
                    step < ep.len() && out[*id].last().unwrap().state == State::Continue
                })
                .map(|(id, (ep, va))| Observation {
                    id: id as u64,
                    epoch: ep[step],
                    value: va[step],
                })
                .collect();
            if batch.is_empty() {
                break;
            }
            for (o, s) in batch.iter().zip(e.observe_batch(&batch).unwrap()) {
                out[o.id as usize].push(s);
            }
        }
        for (id, (x, y)) in out.iter().zip(&reference).enumerate() {
            let kx: Vec<_> = x.iter().map(key).collect();
            let ky: Vec<_> = y.iter().map(key).collect();
            assert_eq!(kx, ky, "network {id}, threads = {threads}");
        }
    }
}
