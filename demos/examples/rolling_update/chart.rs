//! The chart of docs/results.md: failed requests per bucket over the time since the traffic started, one
//! line per mode, against the number of requests sent per bucket, as a small SVG.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::report::{BUCKET, ModeSummary};

const SIZE: (u32, u32) = (720, 340);
const FONT: &str = "sans-serif";
/// One colour per mode, in [`crate::rollout::Mode::ALL`] order.
const MODE_COLOURS: [RGBColor; 4] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];
const SENT_COLOUR: RGBColor = RGBColor(150, 150, 150);
const GRID_COLOUR: RGBColor = RGBColor(232, 232, 232);

/// Draws `summaries` into an SVG file at `path`; `sent_per_bucket` is the steady request count.
pub fn write_svg(path: &Path, summaries: &[ModeSummary], sent_per_bucket: usize) -> Result<()> {
    draw(path, summaries, sent_per_bucket)
        .map_err(|err| anyhow!("drawing {}: {err}", path.display()))
}

fn draw(
    path: &Path,
    summaries: &[ModeSummary],
    sent_per_bucket: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let bucket_s = BUCKET.as_secs_f64();
    let longest = summaries
        .iter()
        .map(|summary| summary.series.len())
        .max()
        .unwrap_or(1);
    let x_end = (longest as f64 * bucket_s).ceil();
    let y_end = sent_per_bucket.max(1) as f64 * 1.15;
    let bucket_ms = BUCKET.as_millis();

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Failed requests during a rolling update", (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(52)
        .build_cartesian_2d(0f64..x_end, 0f64..y_end)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the rollout started")
        .y_desc(format!("failed requests per {bucket_ms} ms"))
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 12))
        .bold_line_style(GRID_COLOUR)
        .max_light_lines(0)
        .x_label_formatter(&|seconds| format!("{seconds:.0}"))
        .y_label_formatter(&|count| format!("{count:.0}"))
        .draw()?;

    chart
        .draw_series(LineSeries::new(
            [
                (0.0, sent_per_bucket as f64),
                (x_end, sent_per_bucket as f64),
            ],
            SENT_COLOUR.stroke_width(1),
        ))?
        .label(format!("requests sent per {bucket_ms} ms"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], SENT_COLOUR.stroke_width(1)));
    for (index, (summary, colour)) in summaries.iter().zip(MODE_COLOURS).enumerate() {
        let markers = chart.draw_series(summary.sigterms.iter().map(|at| {
            let x = at.as_secs_f64();
            PathElement::new([(x, 0.0), (x, y_end)], colour.mix(0.6).stroke_width(1))
        }))?;
        if index == 0 {
            markers
                .label("SIGTERM to an old instance (thin lines)")
                .legend(|(x, y)| {
                    PathElement::new(
                        [(x + 10, y - 6), (x + 10, y + 6)],
                        SENT_COLOUR.stroke_width(1),
                    )
                });
        }
    }
    for (summary, colour) in summaries.iter().zip(MODE_COLOURS) {
        let points = summary
            .series
            .iter()
            .enumerate()
            .map(|(index, bucket)| ((index as f64 + 0.5) * bucket_s, bucket.failed as f64));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(format!(
                "{}: {} of {} failed",
                summary.mode.label(),
                summary.failed,
                summary.requests
            ))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}
