//! Writes starting corpora: valid saved states (for `state`) and API scripts
//! (for `api`), into fuzz/corpus/<target>/, or DIR/<target>/:
//!
//! cargo run --manifest-path fuzz/Cargo.toml --example make_seeds [-- DIR]

use penguin::state::to_bytes;
use penguin::{Config, Engine};
use std::path::{Path, PathBuf};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let root = std::env::args_os().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"),
        PathBuf::from,
    );
    let dir = root.join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    // Saved states: an empty engine and engines with a few networks (one of
    // them final), under several configurations; then the same under the
    // `robust` family, whose keys the text of a default state never names:
    // each selector 112-127, without and with the high bit (select_halving:
    // 240-255), in mode r % 4 (the extra byte's bits 2-3) with the shown
    // cutoff's K from (r / 4) % 2 (bit 4), for r = selector - 112.
    let robust = (0..16u8).flat_map(|r| {
        let extra = (r % 4) << 2 | ((r / 4) % 2) << 4;
        [(112 + r, extra), (0x80 | (112 + r), extra)]
    });
    for (n, (sel, extra)) in (0..6u8).map(|s| (s, 2 * s)).chain(robust).enumerate() {
        let name = |what: &str| {
            if n < 6 {
                format!("{what}_{sel}")
            } else {
                format!("{what}_robust_{sel}_{extra:x}")
            }
        };
        let config = penguin_fuzz::api::config_for(sel, extra);
        let mut e = Engine::new(config).unwrap();
        write("state", &name("empty"), &to_bytes(&e));
        for id in 0..3u64 {
            for k in 1..=(3 + 3 * id) {
                let x = k as f64;
                let v = if e.config().direction == penguin::config::Direction::Minimize {
                    0.3 + 2.0 * 0.7f64.powf(x)
                } else {
                    85.0 - 70.0 * 0.7f64.powf(x)
                };
                if e.observe(id, 0.5 * x, v).is_err() {
                    break;
                }
            }
        }
        write("state", &name("three"), &to_bytes(&e));
    }
    // API scripts: each configuration, then observations of a learning curve
    // on two networks, a batch, a status, a fork, more observations, a forget.
    for sel in 0..6u8 {
        let mut s = vec![sel, 0];
        for k in 0..10u8 {
            // observe(id k%2, epoch +0.5, curve value)
            s.extend_from_slice(&[0, k % 2, 11, 8 + (k % 8) * 16]);
        }
        s.extend_from_slice(&[3, 3, 0, 11, 40, 1, 11, 40, 2, 11, 40]);
        s.extend_from_slice(&[4, 0, 6, 0, 1, 11, 8, 0, 6, 12, 9, 7, 5, 1, 7]);
        write("api", &format!("curve_{sel}"), &s);
        // The same with rank-aware stopping (selector's high bit; select_top
        // 1, then 2).
        for top in [0x80u8, 0x86] {
            let mut t = s.clone();
            t[0] = top + sel;
            write("api", &format!("select_top_{top:x}_{sel}"), &t);
        }
        // The same with the training budget (epoch 3), the width gate, both,
        // the budget at epoch 1 (inside the warm-up) with the gate, and the
        // budget with select_top 1.
        for budget in [12u8, 24, 36, 60, 0x80 + 12] {
            let mut t = s.clone();
            t[0] = budget + sel;
            write("api", &format!("budget_{budget:x}_{sel}"), &t);
        }
        // The same with the chance-level rules on (extra byte's high bit):
        // every observation then carries a loss byte; network 2 stays flat
        // at chance with a flat loss, network 3 is new in the batch.
        let s = chance_script(sel, 0x80 | 0x20 | 0x0c);
        write("api", &format!("chance_{sel}"), &s);
        // With select_top too: the late-bloomer guard may keep a network
        // below the cutoff training.
        for top in [0x80u8, 0x86] {
            let mut t = s.clone();
            t[0] = top + sel;
            write("api", &format!("chance_select_top_{top:x}_{sel}"), &t);
        }
        let mut t = s.clone();
        t[0] = 12 + sel;
        write("api", &format!("chance_budget_{sel}"), &t);
    }
    // The `robust` family (see config_for): each selector 112-127 with and
    // without select_halving (high bit), each mode (extra bits 2-3), the
    // curve script (K from bit 4) and the chance script (losses).
    for r in 0..16u8 {
        for high in [0u8, 0x80] {
            for mode in 0..4u8 {
                let sel = high + 112 + r;
                let mut s = vec![sel, (mode << 2) | ((r & 1) << 4)];
                for k in 0..12u8 {
                    s.extend_from_slice(&[0, k % 3, 11, 8 + (k % 3) * 0x50]);
                }
                s.extend_from_slice(&[3, 3, 0, 11, 40, 1, 11, 40, 2, 11, 40, 6]);
                for k in 0..12u8 {
                    s.extend_from_slice(&[0, k % 3, 11, 8 + (k % 3) * 0x50]);
                }
                s.extend_from_slice(&[4, 0, 7, 5, 1, 0, 1, 11, 8]);
                write("api", &format!("robust_{sel:x}_{mode}"), &s);
                let t = chance_script(sel, 0x80 | (mode << 2) | ((r & 1) << 4));
                write("api", &format!("robust_chance_{sel:x}_{mode}"), &t);
            }
        }
    }
    // Configuration lines: every key once with a valid value.
    let c = Config::default();
    write(
        "config",
        "defaults",
        c.to_text().replace(" = ", "=").as_bytes(),
    );
    write(
        "config",
        "cheap",
        b"fit_patience=20\nfit_restarts=0\nthreads=1\n",
    );
    write(
        "config",
        "loss",
        b"function=lossexp3\ndirection=minimize\nvalid_max=inf\nfit_patience=20\n",
    );
    write(
        "config",
        "chance",
        b"chance_level=10\nchance_patience=2\nloss_patience=3\nloss_min_delta=0.001\nselect_top=2\nfit_patience=20\n",
    );
    write(
        "config",
        "budget",
        b"max_epoch=3\nstop_width=10\nfallback_width=5\nselect_top=2\nfit_patience=20\n",
    );
    write(
        "config",
        "bounds",
        b"bounds=0.5,1,0;200,inf,inf\np0=10,1.001,100\nsolver=trf\n",
    );
}

/// The chance-level script under configuration bytes `sel` and `extra` (whose
/// high bit must be set: every observation carries a loss byte): networks 0
/// and 1 learn, network 2 stays flat at chance with a flat loss, network 3 is
/// new in the batch.
fn chance_script(sel: u8, extra: u8) -> Vec<u8> {
    let mut s = vec![sel, extra];
    for k in 0..10u8 {
        s.extend_from_slice(&[0, k % 2, 11, 8 + (k % 8) * 16, 40 + 8 * k]);
        s.extend_from_slice(&[0, 2, 11, 5, 1]);
    }
    s.extend_from_slice(&[3, 3, 0, 11, 40, 90, 2, 11, 5, 1, 3, 11, 40, 0]);
    s.extend_from_slice(&[4, 2, 6, 0, 1, 11, 8, 255, 7, 5, 1, 7]);
    s
}
