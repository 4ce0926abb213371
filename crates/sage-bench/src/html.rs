//! The HTML report: the run's tables and SVG plots in one self-contained
//! file (no script, no external asset, no font dependency).
//!
//! Layer: the bench's presentation, a function of a [`Report`] alone (so
//! `sage-bench html report.json` redraws any saved run). Plots, drawn
//! with plotters' SVG backend: latency over time (p50 and p99 per
//! operation), throughput over time, and one latency histogram per
//! operation.

use core::fmt::Write as _;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

use crate::error::BenchError;
use crate::report::Report;
use crate::scenario::Operation;

type PlotResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 340;

/// One colour per operation, in [`Operation::ALL`] order.
const COLOURS: [RGBColor; 5] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0xff, 0x7f, 0x0e),
];

fn colour(operation: Operation) -> RGBColor {
    let index = Operation::ALL
        .iter()
        .position(|o| *o == operation)
        .unwrap_or(0);
    COLOURS.get(index).copied().unwrap_or(BLACK)
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The report as one HTML page.
///
/// # Errors
/// [`BenchError::Plot`] when a plot cannot be drawn.
pub fn render(report: &Report) -> Result<String, BenchError> {
    let mut page = String::new();
    let title = format!("sage-bench: {}", report.scenario.name);
    // Writing to a String cannot fail.
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;margin:2em;max-width:1000px}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
         th{{background:#f4f4f4}}td:first-child,th:first-child{{text-align:left}}\
         .fail{{color:#b00;font-weight:bold}}.pass{{color:#070}}</style></head><body>\n",
        escape(&title)
    );
    let verdict = if report.passed {
        "<span class=\"pass\">PASSED</span>"
    } else {
        "<span class=\"fail\">FAILED</span>"
    };
    let _ = writeln!(
        page,
        "<h1>{}</h1><p>{}</p><p>Verdict: {verdict}. Started {} for {:.1} s against {} \
         (node {}, database {}{}).</p>",
        escape(&title),
        escape(&report.scenario.description),
        escape(&report.started_at),
        report.duration_seconds,
        escape(&report.target.url),
        escape(&report.target.node_did),
        escape(&report.target.database),
        if report.target.in_process {
            ", in-process"
        } else {
            ""
        },
    );
    let _ = writeln!(
        page,
        "<p>Machine: {} ({} cores, {}). {}.</p>",
        escape(&report.machine.cpu_model),
        report.machine.cores,
        escape(&report.machine.os),
        escape(&report.machine.note)
    );

    page.push_str(
        "<h2>Operations</h2><table><tr><th>operation</th><th>count</th><th>ok</th>\
         <th>errors</th><th>error rate</th><th>throughput /s</th><th>p50 ms</th><th>p90 ms</th>\
         <th>p95 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr>\n",
    );
    for (operation, s) in &report.operations {
        let errors: Vec<String> = s
            .errors
            .iter()
            .map(|(code, n)| format!("{code}: {n}"))
            .collect();
        let l = &s.latency_ms;
        let _ = writeln!(
            page,
            "<tr><td>{operation}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.1}</td>\
             <td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            s.count,
            s.ok,
            escape(&errors.join(", ")),
            s.error_rate,
            s.throughput,
            l.p50,
            l.p90,
            l.p95,
            l.p99,
            l.p999,
            l.max
        );
    }
    page.push_str("</table>\n");

    if !report.thresholds.is_empty() {
        page.push_str(
            "<h2>Thresholds</h2><table><tr><th>threshold</th><th>limit</th><th>observed</th>\
             <th>verdict</th></tr>\n",
        );
        for t in &report.thresholds {
            let observed = t
                .observed
                .map_or_else(|| "none".to_owned(), |v| format!("{v:.4}"));
            let verdict = if t.passed {
                "<span class=\"pass\">pass</span>"
            } else {
                "<span class=\"fail\">FAIL</span>"
            };
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{:.4}</td><td>{observed}</td><td>{verdict}</td></tr>",
                escape(&t.name),
                t.limit
            );
        }
        page.push_str("</table>\n");
    }

    page.push_str("<h2>Latency over time</h2>\n");
    page.push_str(&svg(|area| latency_plot(report, area))?);
    page.push_str("<h2>Throughput over time</h2>\n");
    page.push_str(&svg(|area| throughput_plot(report, area))?);
    page.push_str("<h2>Latency histograms</h2>\n");
    for operation in report.histograms.keys() {
        page.push_str(&svg(|area| histogram_plot(report, *operation, area))?);
    }

    if !report.node_metrics.delta.is_empty() {
        page.push_str(
            "<h2>Node metrics (after − before; buckets in the JSON)</h2><table><tr><th>sample</th><th>change</th></tr>\n",
        );
        // Histogram buckets are in the JSON; the page keeps the totals.
        let samples = report
            .node_metrics
            .delta
            .iter()
            .filter(|(name, _)| !name.contains("_bucket{"));
        for (name, change) in samples {
            let _ = writeln!(page, "<tr><td>{}</td><td>{change}</td></tr>", escape(name));
        }
        page.push_str("</table>\n");
    }
    page.push_str("</body></html>\n");
    Ok(page)
}

/// Draws one plot into an SVG string.
fn svg(
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> PlotResult,
) -> Result<String, BenchError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(BenchError::Plot)?;
        draw(&root).map_err(BenchError::Plot)?;
        root.present().map_err(BenchError::Plot)?;
    }
    out.push('\n');
    Ok(out)
}

fn x_max(report: &Report) -> f64 {
    report
        .series
        .iter()
        .map(|p| p.t)
        .fold(report.duration_seconds, f64::max)
        .max(1.0)
}

/// A chart over the run's time axis (seconds) with `y_desc` from 0 to
/// `y_max`, its mesh drawn.
fn time_chart<'a, 'b>(
    report: &Report,
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
    y_desc: &str,
    y_max: f64,
) -> Result<
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    DrawingAreaErrorKind<std::io::Error>,
> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max(report), 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_desc(y_desc)
        .draw()?;
    Ok(chart)
}

fn latency_plot(report: &Report, area: &DrawingArea<SVGBackend<'_>, Shift>) -> PlotResult {
    let y_max = report
        .series
        .iter()
        .map(|p| p.p99_ms)
        .fold(0.0, f64::max)
        .max(0.1)
        * 1.1;
    let mut chart = time_chart(
        report,
        area,
        "p50 (thin) and p99 (thick) latency per window",
        "ms",
        y_max,
    )?;
    for operation in report.operations.keys() {
        let c = colour(*operation);
        let points = |pick: fn(&crate::stats::SeriesPoint) -> f64| {
            report
                .series
                .iter()
                .filter(|p| p.operation == *operation && p.ok > 0)
                .map(move |p| (p.t, pick(p)))
                .collect::<Vec<_>>()
        };
        chart
            .draw_series(LineSeries::new(points(|p| p.p99_ms), c.stroke_width(2)))?
            .label(format!("{operation} p99"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(LineSeries::new(points(|p| p.p50_ms), c.stroke_width(1)))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn throughput_plot(report: &Report, area: &DrawingArea<SVGBackend<'_>, Shift>) -> PlotResult {
    let y_max = report
        .series
        .iter()
        .map(|p| p.rate)
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.1;
    let mut chart = time_chart(
        report,
        area,
        "successful requests per second",
        "requests/s",
        y_max,
    )?;
    for operation in report.operations.keys() {
        let c = colour(*operation);
        let points: Vec<(f64, f64)> = report
            .series
            .iter()
            .filter(|p| p.operation == *operation)
            .map(|p| (p.t, p.rate))
            .collect();
        chart
            .draw_series(LineSeries::new(points, c.stroke_width(2)))?
            .label(operation.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn histogram_plot(
    report: &Report,
    operation: Operation,
    area: &DrawingArea<SVGBackend<'_>, Shift>,
) -> PlotResult {
    let bins = report
        .histograms
        .get(&operation)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let x_max = bins.last().map_or(1.0, |b| b.upper_ms).max(0.001);
    let y_max = bins.iter().map(|b| b.count).max().unwrap_or(1).max(1) as f64 * 1.1;
    let width = bins.first().map_or(x_max, |b| b.upper_ms);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{operation}: latency histogram (up to p99.9; the tail is in the last bar)"),
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_desc("ms")
        .y_desc("requests")
        .draw()?;
    let c = colour(operation);
    chart.draw_series(bins.iter().map(|b| {
        Rectangle::new(
            [(b.upper_ms - width, 0.0), (b.upper_ms, b.count as f64)],
            c.filled(),
        )
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_renders_its_tables_and_one_svg_per_plot() {
        let mut report = crate::report::fixtures::report(&[
            (Operation::Send, 100.0, 10.0, 0.0),
            (Operation::Handshake, 10.0, 30.0, 0.0),
        ]);
        report.scenario.description = "<b>not markup</b>".to_owned();
        let mut recorder = crate::stats::Recorder::new(core::time::Duration::from_secs(1));
        for i in 0..300u64 {
            let at = core::time::Duration::from_millis(i * 10);
            let latency = core::time::Duration::from_micros(500 + i * 7);
            recorder.record(Operation::Send, at, Ok(latency));
            recorder.record(Operation::Handshake, at, Ok(latency * 3));
        }
        recorder.finish(core::time::Duration::from_secs(3));
        report.series = recorder.series().to_vec();
        report.histograms = recorder.histogram_bins(20);
        let page = render(&report).unwrap();
        // Latency and throughput over time, and two histograms.
        assert_eq!(page.matches("<svg").count(), 4);
        assert!(page.contains("&lt;b&gt;not markup&lt;/b&gt;"));
        assert!(page.contains("<td>handshake</td>") && page.contains("<td>send</td>"));
        assert!(page.contains("PASSED"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
