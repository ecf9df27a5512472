//! Learning curves for a replay: long-format CSV files read into data sets of
//! networks, keeping each row's line number so that every complaint names it.
//!
//! Built on [`penguin::curves::Table`] (the CSV layer shared with the rest of the
//! crate); this module adds what a replay needs on top: the data-set grouping,
//! the optional training-loss column for the MENNDL baseline, counting of skipped
//! rows, and checks that each network's epochs increase.

use penguin::curves::{Table, parse_number};
use penguin::error::{Error, ErrorCode, Result};
use std::collections::HashMap;

/// The curves bundled with the crate, replayed when no file is given: 127 random
/// CNNs on Fashion-MNIST, three CIFAR-100 networks from the PENGUIN authors'
/// published data, and 100 MLPs on Fashion-MNIST recorded by this project's MPI
/// NAS, `examples/nas` (see `tests/data/PROVENANCE.md`).
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "fmnist_random_cnn.csv",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/fmnist_random_cnn.csv"
        )),
    ),
    (
        "dataverse_cifar100_3nets.csv",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/dataverse_cifar100_3nets.csv"
        )),
    ),
    (
        "fmnist_mlp_mpi.csv",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/fmnist_mlp_mpi.csv"
        )),
    ),
];

/// Chance levels (in %) of the bundled data sets whose class count is not the
/// default 10: CIFAR-100 has 100 classes.
pub const BUNDLED_CHANCE: &[(&str, f64)] = &[("CIFAR100", 1.0)];

/// Which columns of the CSV files make the curves.
#[derive(Clone, Debug, PartialEq)]
pub struct Columns {
    /// Network id column.
    pub id: String,
    /// Epoch column.
    pub epoch: String,
    /// Fitness column (the metric Penguin predicts).
    pub metric: String,
    /// Grouping column: one report column per value. `None`, or a column missing
    /// from a file, makes each file one data set named after the file.
    pub group: Option<String>,
    /// Training-loss column for MENNDL's built-in termination. `None`, or a column
    /// missing from a file, leaves MENNDL with its epoch cap only.
    pub train_loss: Option<String>,
    /// Validation-loss column, given to Penguin beside the fitness for the
    /// late-bloomer guard (`loss_patience`); `None` or missing: not given.
    pub val_loss: Option<String>,
    /// The group column was named explicitly: a file without it is an error.
    pub group_required: bool,
    /// The training-loss column was named explicitly: a file without it is an
    /// error.
    pub train_loss_required: bool,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            id: "model_id".into(),
            epoch: "epoch".into(),
            metric: "val_acc".into(),
            group: Some("dataset".into()),
            train_loss: Some("train_loss".into()),
            val_loss: Some("val_loss".into()),
            group_required: false,
            train_loss_required: false,
        }
    }
}

/// One observation of a network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The epoch (finite, > 0).
    pub epoch: f64,
    /// The fitness (finite).
    pub value: f64,
    /// The training loss (NaN when absent).
    pub train_loss: f64,
    /// The validation loss (NaN when absent), for the late-bloomer guard.
    pub val_loss: f64,
}

/// One network's learning curve, rows with non-finite fitness left out.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// The id as written in the file.
    pub id: String,
    /// The file it came from.
    pub source: String,
    /// Its observations, epochs strictly increasing.
    pub points: Vec<Point>,
}

impl Network {
    /// The epoch of the last observation (NaN when there is none).
    pub fn last_epoch(&self) -> f64 {
        self.points.last().map_or(f64::NAN, |p| p.epoch)
    }
}

/// The networks of one data set, in order of first appearance.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The data set's name (the group column's value, or the file's stem).
    pub name: String,
    /// Its networks, each with at least one observation.
    pub networks: Vec<Network>,
    /// Rows skipped because their fitness is not a finite number.
    pub skipped_nonfinite: usize,
    /// Rows skipped because their epoch is not greater than 0 (Penguin observes
    /// trained epochs only).
    pub skipped_epoch: usize,
    /// Networks left out because every one of their rows was skipped.
    pub empty_networks: usize,
    /// Whether every file of this data set had the training-loss column.
    pub train_loss: bool,
}

impl Dataset {
    /// The last epoch observed in any of its networks (NaN when none).
    pub fn max_epoch(&self) -> f64 {
        self.networks
            .iter()
            .filter_map(|n| n.points.last().map(|p| p.epoch))
            .fold(f64::NAN, f64::max)
    }
}

fn data_error(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// The file name without directories or extension.
pub fn file_stem(name: &str) -> String {
    std::path::Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_string())
}

/// Reads `(file name, CSV text)` sources into data sets. Errors name the file and
/// the line: a row with the wrong number of fields, a missing column, an epoch or
/// fitness that is not a number, an epoch that does not increase, and a network
/// that appears in two files.
pub fn load(sources: &[(String, String)], cols: &Columns) -> Result<Vec<Dataset>> {
    let mut datasets: Vec<Dataset> = Vec::new();
    // (data set, network id) -> (data set index, network index, file)
    let mut seen: HashMap<(String, String), (usize, usize, String)> = HashMap::new();
    for (file, text) in sources {
        let at = |e: Error| Error::new(e.code, format!("{file}: {}", e.message));
        let table = Table::parse(text).map_err(at)?;
        let id = table.column(&cols.id).map_err(at)?;
        let epoch = table.column(&cols.epoch).map_err(at)?;
        let metric = table.column(&cols.metric).map_err(at)?;
        let optional = |name: Option<&str>, required: bool| match name {
            Some(c) if required => table.column(c).map(Some).map_err(at),
            Some(c) => Ok(table.column(c).ok()),
            None => Ok(None),
        };
        let group = optional(cols.group.as_deref(), cols.group_required)?;
        let loss = optional(cols.train_loss.as_deref(), cols.train_loss_required)?;
        let val_loss = optional(cols.val_loss.as_deref(), false)?;
        let stem = file_stem(file);
        // Line of each network's previous row in this file, for error messages.
        let mut previous_line: HashMap<(usize, usize), usize> = HashMap::new();
        let mut touched: Vec<usize> = Vec::new();
        for (line, row) in &table.rows {
            let name = match group.map(|g| row[g].trim()) {
                Some(g) if !g.is_empty() => g.to_string(),
                _ => stem.clone(),
            };
            let d = match datasets.iter().position(|d| d.name == name) {
                Some(d) => d,
                None => {
                    datasets.push(Dataset {
                        name: name.clone(),
                        networks: Vec::new(),
                        skipped_nonfinite: 0,
                        skipped_epoch: 0,
                        empty_networks: 0,
                        train_loss: true,
                    });
                    datasets.len() - 1
                }
            };
            if !touched.contains(&d) {
                touched.push(d);
            }
            let net_id = row[id].trim().to_string();
            let key = (name.clone(), net_id.clone());
            let n = match seen.get(&key) {
                Some((_, n, other)) if other == file => *n,
                Some((_, _, other)) => {
                    return Err(data_error(format!(
                        "{file}: line {line}: network '{net_id}' of data set '{name}' \
                         already appears in {other}; a network's rows must be in one file"
                    )));
                }
                None => {
                    datasets[d].networks.push(Network {
                        id: net_id.clone(),
                        source: file.clone(),
                        points: Vec::new(),
                    });
                    let n = datasets[d].networks.len() - 1;
                    seen.insert(key, (d, n, file.clone()));
                    n
                }
            };
            let e = match parse_number(&row[epoch]) {
                Some(e) if e.is_finite() => e,
                Some(_) => {
                    return Err(data_error(format!(
                        "{file}: line {line}: {} '{}' is not a finite number",
                        cols.epoch, row[epoch]
                    )));
                }
                None => {
                    return Err(data_error(format!(
                        "{file}: line {line}: {} '{}' is not a number",
                        cols.epoch, row[epoch]
                    )));
                }
            };
            let v = parse_number(&row[metric]).ok_or_else(|| {
                data_error(format!(
                    "{file}: line {line}: {} '{}' is not a number",
                    cols.metric, row[metric]
                ))
            })?;
            if !v.is_finite() {
                datasets[d].skipped_nonfinite += 1;
                continue;
            }
            if e <= 0.0 {
                datasets[d].skipped_epoch += 1;
                continue;
            }
            let l = loss.and_then(|c| parse_number(&row[c])).unwrap_or(f64::NAN);
            let net = &mut datasets[d].networks[n];
            if let Some(prev) = net.points.last()
                && e <= prev.epoch
            {
                let before = previous_line
                    .get(&(d, n))
                    .map_or(String::new(), |l| format!(" (line {l})"));
                return Err(data_error(format!(
                    "{file}: line {line}: network '{net_id}': {} {e} is not after its \
                     previous {} {}{before}",
                    cols.epoch, cols.epoch, prev.epoch
                )));
            }
            net.points.push(Point {
                epoch: e,
                value: v,
                train_loss: l,
                val_loss: val_loss
                    .and_then(|c| parse_number(&row[c]))
                    .unwrap_or(f64::NAN),
            });
            previous_line.insert((d, n), *line);
        }
        if loss.is_none() {
            for d in touched {
                datasets[d].train_loss = false;
            }
        }
    }
    for d in &mut datasets {
        let before = d.networks.len();
        d.networks.retain(|n| !n.points.is_empty());
        d.empty_networks = before - d.networks.len();
    }
    if datasets.iter().all(|d| d.networks.is_empty()) {
        let names: Vec<&str> = sources.iter().map(|(f, _)| f.as_str()).collect();
        return Err(data_error(format!(
            "no learning curves in {}: no row has a finite {} at an epoch > 0",
            names.join(", "),
            cols.metric
        )));
    }
    Ok(datasets)
}

/// The bundled curves as sources for [`load`].
pub fn bundled_sources() -> Vec<(String, String)> {
    BUNDLED
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect()
}
