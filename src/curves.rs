//! Learning curves from long-format CSV files (one row per network and epoch).

use crate::error::{Error, ErrorCode, Result};
use std::collections::HashMap;

/// A parsed CSV table: header names and rows of fields, with their line numbers.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows (each as long as the header) and the 1-based line each came from.
    pub rows: Vec<(usize, Vec<String>)>,
}

fn split_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

impl Table {
    /// Parses CSV text with a header line. A row with the wrong number of fields
    /// is an error naming its line.
    pub fn parse(text: &str) -> Result<Table> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, head)) = lines.next() else {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "empty CSV: no header line",
            ));
        };
        let header: Vec<String> = split_line(head.trim_start_matches('\u{feff}'))
            .into_iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for (i, line) in lines {
            let fields = split_line(line.trim_end_matches('\r'));
            if fields.len() != header.len() {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "line {}: {} fields, but the header has {}",
                        i + 1,
                        fields.len(),
                        header.len()
                    ),
                ));
            }
            rows.push((i + 1, fields));
        }
        Ok(Table { header, rows })
    }

    /// Index of a column.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("no column '{name}' (columns: {})", self.header.join(", ")),
            )
        })
    }
}

/// Parses a number the way learning-curve files write them (`nan`, `inf`, `True`
/// are not numbers here; an empty field is NaN).
pub fn parse_number(field: &str) -> Option<f64> {
    let f = field.trim();
    if f.is_empty() {
        return Some(f64::NAN);
    }
    f.parse::<f64>().ok()
}

/// One network's learning curve.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curve {
    /// The network's id as written in the file.
    pub id: String,
    /// Its group (data set), or empty.
    pub group: String,
    /// Epochs, in file order.
    pub epochs: Vec<f64>,
    /// The metric at each epoch (may hold NaN).
    pub values: Vec<f64>,
    /// Extra numeric columns requested by the caller, by name.
    pub extra: HashMap<String, Vec<f64>>,
}

/// Which columns make a curve.
#[derive(Clone, Debug)]
pub struct CurveColumns<'a> {
    /// Network id column.
    pub id: &'a str,
    /// Epoch column.
    pub epoch: &'a str,
    /// Fitness column.
    pub metric: &'a str,
    /// Grouping column, used when present.
    pub group: Option<&'a str>,
    /// Extra numeric columns, read when present.
    pub extra: &'a [&'a str],
}

impl Default for CurveColumns<'_> {
    fn default() -> Self {
        CurveColumns {
            id: "model_id",
            epoch: "epoch",
            metric: "val_acc",
            group: Some("dataset"),
            extra: &[],
        }
    }
}

/// Reads curves from a table, in order of first appearance. Rows of one network
/// need not be contiguous but keep their file order.
pub fn read_curves(table: &Table, cols: &CurveColumns) -> Result<Vec<Curve>> {
    let id = table.column(cols.id)?;
    let epoch = table.column(cols.epoch)?;
    let metric = table.column(cols.metric)?;
    let group = cols.group.and_then(|g| table.column(g).ok());
    let extra: Vec<(&str, usize)> = cols
        .extra
        .iter()
        .filter_map(|name| table.column(name).ok().map(|i| (*name, i)))
        .collect();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut curves: Vec<Curve> = Vec::new();
    for (line, row) in &table.rows {
        let number = |col: usize, what: &str| {
            parse_number(&row[col]).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("line {line}: {what} '{}' is not a number", row[col]),
                )
            })
        };
        let g = group.map(|g| row[g].clone()).unwrap_or_default();
        let key = (g.clone(), row[id].clone());
        let k = *index.entry(key).or_insert_with(|| {
            curves.push(Curve {
                id: row[id].clone(),
                group: g,
                ..Curve::default()
            });
            curves.len() - 1
        });
        let c = &mut curves[k];
        c.epochs.push(number(epoch, cols.epoch)?);
        c.values.push(number(metric, cols.metric)?);
        for (name, i) in &extra {
            let v = parse_number(&row[*i]).unwrap_or(f64::NAN);
            c.extra.entry(name.to_string()).or_default().push(v);
        }
    }
    Ok(curves)
}
