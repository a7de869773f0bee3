//! The side-by-side table (printed, and the same rows in `docs/benchmark.json`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

/// One line of the table. `met` is `None` for rows without a target.
pub struct Row {
    pub metric: String,
    pub hook: String,
    pub recipe: String,
    pub ratio: String,
    pub target: String,
    pub met: Option<bool>,
}

impl Row {
    pub fn new(metric: &str, hook: String, recipe: String) -> Row {
        Row {
            metric: metric.to_owned(),
            hook,
            recipe,
            ratio: String::new(),
            target: String::new(),
            met: None,
        }
    }

    pub fn ratio(mut self, ratio: String) -> Row {
        self.ratio = ratio;
        self
    }

    pub fn target(mut self, target: &str, met: bool) -> Row {
        self.target = target.to_owned();
        self.met = Some(met);
        self
    }

    fn met_text(&self) -> &'static str {
        match self.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "metric": self.metric,
            "eureka_hook": self.hook,
            "curl_recipe": self.recipe,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
        })
    }
}

pub const HEADER: [&str; 6] = [
    "metric",
    "eureka-hook",
    "curl recipe",
    "ratio (curl / hook)",
    "target",
    "met?",
];

/// A Markdown table, so the output can be pasted into an issue as it is.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(
        &header
            .iter()
            .map(|cell| (*cell).to_owned())
            .collect::<Vec<_>>(),
    );
    line(
        &widths
            .iter()
            .map(|width| "-".repeat(*width))
            .collect::<Vec<_>>(),
    );
    for row in rows {
        line(row);
    }
}

pub fn print_rows(rows: &[Row]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.metric.clone(),
                row.hook.clone(),
                row.recipe.clone(),
                row.ratio.clone(),
                row.target.clone(),
                row.met_text().to_owned(),
            ]
        })
        .collect();
    print_table(&HEADER, &cells);
}

/// `docs/benchmark.json` with `--update-docs`, else `target/demos/benchmark.json`.
pub fn json_path(update_docs: bool) -> PathBuf {
    eureka_hook_demos::results_path("benchmark.json", update_docs)
}

/// Rewrites the results file ([`json_path`]): `update` gets the current top-level object (empty
/// when the file is missing or not an object) and changes the keys it owns.
pub fn update_json(
    update_docs: bool,
    update: impl FnOnce(&mut Map<String, Value>),
) -> Result<PathBuf> {
    let path = json_path(update_docs);
    let mut document = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|value| match value {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    update(&mut document);
    let text = serde_json::to_string_pretty(&Value::Object(document))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
