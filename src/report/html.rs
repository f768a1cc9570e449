//! `index.html`: one offline page per result directory with its provenance (version, build,
//! numerics, generator, seed, date, command line), links to its data files, the theorem
//! table, the plots and a sortable summary table (a few lines of inline script, nothing
//! fetched).

use super::Res;
use std::path::{Path, PathBuf};

/// The data files a result directory may hold, linked from the page in this order.
const DATA_FILES: [&str; 11] = [
    "summary.csv",
    "trajectories.csv",
    "trajectories/",
    "run.json",
    "theorem.csv",
    "theorem.json",
    "convexity.csv",
    "convexity_epochs.csv",
    "convexity_restarts.csv",
    "convexity.json",
    "coverage.csv",
];

/// The theorem table's columns shown on the page (`theorem.csv`, linked, has them all).
const THEOREM_SHOWN: [&str; 16] = [
    "config",
    "verdict",
    "reasons",
    "given",
    "c_hat",
    "L_used",
    "eta",
    "step_bound",
    "lambda",
    "b",
    "t1",
    "t2",
    "p_reach",
    "p_reach_verdict",
    "p_stay_given_reach",
    "p_stay_given_reach_verdict",
];

/// Sorts a `table.sortable` by the clicked column: numbers by value (the full-precision
/// value in `data-v`), text alphabetically, empty cells last; a second click reverses.
const SORT_SCRIPT: &str = r#"<script>
document.querySelectorAll('table.sortable th').forEach(function (th, i) {
  th.title = 'sort'; th.style.cursor = 'pointer';
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows);
    var up = th.dataset.dir !== 'up';
    th.closest('tr').querySelectorAll('th').forEach(function (h) { delete h.dataset.dir; });
    th.dataset.dir = up ? 'up' : 'down';
    function key(r) {
      var c = r.cells[i], v = c.dataset.v !== undefined ? c.dataset.v : c.textContent;
      var x = Number(v);
      return v === '' ? null : (isNaN(x) ? v : x);
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null || y === null) return (x === null) - (y === null);
      var c = typeof x === 'number' && typeof y === 'number' ? x - y
        : typeof x === 'number' ? -1 : typeof y === 'number' ? 1 : String(x).localeCompare(y);
      return up ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
</script>
"#;

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The provenance rows: from the first JSON result file the directory has (`run.json`,
/// `theorem.json`, `convexity.json`), else from `coverage.csv`'s columns. Keys a file of an
/// older version does not have are shown as not recorded.
fn provenance(dir: &Path) -> Vec<(String, String)> {
    let doc = ["run.json", "theorem.json", "convexity.json"]
        .iter()
        .filter_map(|f| super::read::read_bounded(&dir.join(f)).ok())
        .find_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "not recorded".to_string(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or(x.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(" "),
        v => v.to_string(),
    };
    let mut rows = vec![];
    if let Some(d) = doc {
        for (name, v) in [
            ("sgd-escape version", &d["version"]),
            ("commit", &d["build"]["commit"]),
            ("build profile", &d["build"]["profile"]),
            ("numerics version", &d["numerics"]),
            ("generator", &d["rng"]),
            ("experiment", &d["experiment"]["name"]),
            ("experiment file", &d["experiment"]["source"]),
            ("seed", &d["experiment"]["seed"]),
            ("written (UTC)", &d["date"]),
            ("command line", &d["command"]),
            ("threads", &d["threads"]),
            ("elapsed (s)", &d["elapsed_s"]),
        ] {
            if !(v.is_null() && ["threads", "elapsed (s)"].contains(&name)) {
                rows.push((name.to_string(), text(v)));
            }
        }
    } else if let Ok(mut rd) = csv::Reader::from_path(dir.join("coverage.csv")) {
        let header = rd.headers().cloned().unwrap_or_default();
        if let Some(Ok(first)) = rd.records().next() {
            for key in ["seed", "rng", "numerics"] {
                if let Some(i) = header.iter().position(|h| h == key) {
                    rows.push((key.to_string(), first[i].to_string()));
                }
            }
        }
    }
    rows.push((
        "this page".into(),
        format!(
            "sgd-escape {} (commit {}), {}",
            env!("CARGO_PKG_VERSION"),
            crate::BUILD_COMMIT,
            humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        ),
    ));
    rows
}

/// A number shown in a table: 4 decimals, or 4 significant digits with an exponent when
/// decimals would hide it.
fn short(x: f64) -> String {
    if x != 0.0 && !(1e-3..1e6).contains(&x.abs()) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// A CSV file as an HTML table of the columns `keep` chooses; numbers shown to 4 decimals
/// with their full value in `data-v` (for sorting).
fn csv_table(path: &Path, keep: impl Fn(&str) -> bool, class: &str) -> Res<Option<String>> {
    let Ok(mut rd) = csv::Reader::from_path(path) else {
        return Ok(None);
    };
    let header = rd.headers()?.clone();
    let cols: Vec<usize> = (0..header.len()).filter(|&i| keep(&header[i])).collect();
    let mut t = format!("<table class=\"{class}\"><thead><tr>");
    for &i in &cols {
        t.push_str(&format!("<th>{}</th>", escape(&header[i])));
    }
    t.push_str("</tr></thead><tbody>\n");
    for rec in rd.records() {
        let rec = rec?;
        t.push_str("<tr>");
        for &i in &cols {
            let v = &rec[i];
            match v.parse::<f64>() {
                Ok(x) if v.contains('.') || v.contains('e') => t.push_str(&format!(
                    "<td data-v=\"{}\">{}</td>",
                    escape(v),
                    escape(&short(x))
                )),
                _ => t.push_str(&format!("<td>{}</td>", escape(v))),
            }
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</tbody></table>\n");
    Ok(Some(t))
}

/// Writes `dir/index.html`.
pub(super) fn index_html(
    dir: &Path,
    name: &str,
    description: &str,
    plots: &[PathBuf],
) -> Res<PathBuf> {
    let mut html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{0}</title>\n<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:13px;margin-bottom:1em}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}table.provenance td{{text-align:left}}th[data-dir=up]::after{{content:' ▲'}}th[data-dir=down]::after{{content:' ▼'}}img{{max-width:100%;margin:1em 0}}</style></head><body>\n<h1>{0}</h1>\n<p>{1}</p>\n",
        escape(name),
        escape(description)
    );
    html.push_str("<h2>Provenance</h2>\n<table class=\"provenance\">\n");
    for (k, v) in provenance(dir) {
        html.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape(&k),
            escape(&v)
        ));
    }
    html.push_str("</table>\n<h2>Data files</h2>\n<ul>\n");
    // `trajectories/` is the Parquet dataset (a directory); the rest are files.
    for f in DATA_FILES.iter().filter(|f| {
        let p = dir.join(f);
        if f.ends_with('/') {
            p.is_dir()
        } else {
            p.is_file()
        }
    }) {
        html.push_str(&format!("<li><a href=\"{0}\">{0}</a></li>\n", escape(f)));
    }
    html.push_str("</ul>\n");
    if let Some(t) = csv_table(
        &dir.join("theorem.csv"),
        |h| THEOREM_SHOWN.contains(&h),
        "sortable",
    )? {
        html.push_str("<h2>Theorem 1 check (theorem.csv: every column)</h2>\n");
        html.push_str(&t);
    }
    if !plots.is_empty() {
        html.push_str("<h2>Plots</h2>\n");
    }
    for p in plots {
        let rel = |p: &Path| p.strip_prefix(dir).unwrap_or(p).display().to_string();
        html.push_str(&format!(
            "<img src=\"{}\" alt=\"{}\">\n",
            escape(&rel(p)),
            escape(&rel(p))
        ));
        // The figure's other files: PDF and PNG, and the one-column (85 mm) variant.
        let narrow = super::Sheet::ONE_COLUMN.file(
            p.parent().unwrap_or(dir),
            &p.file_stem().unwrap_or_default().to_string_lossy(),
        );
        let links: Vec<String> = [(p, "175 mm"), (&narrow, "85 mm")]
            .into_iter()
            .flat_map(|(svg, size)| {
                ["svg", "pdf", "png"].into_iter().filter_map(move |ext| {
                    let f = svg.with_extension(ext);
                    f.is_file().then(|| {
                        format!(
                            "<a href=\"{}\">{size} {}</a>",
                            escape(&rel(&f)),
                            ext.to_uppercase()
                        )
                    })
                })
            })
            .collect();
        if !links.is_empty() {
            html.push_str(&format!("<p>{}</p>\n", links.join(" · ")));
        }
    }
    if let Some(t) = csv_table(
        &dir.join("plots/figure3_comparison.csv"),
        |h| !h.ends_with("_lower") && !h.ends_with("_upper") && !h.starts_with("count_"),
        "sortable",
    )? {
        html.push_str("<h2>Against the paper's Figure 3 (plots/figure3_comparison.csv: every column, intervals included)</h2>\n");
        html.push_str(&t);
    }
    if let Some(t) = csv_table(
        &dir.join("summary.csv"),
        |h| {
            !["experiment", "config_id", "seed", "rng"].contains(&h)
                && !h.ends_with("_mcse")
                && !h.contains("p_value")
        },
        "sortable",
    )? {
        html.push_str("<h2>Summary (summary.csv; click a column to sort)</h2>\n");
        html.push_str(&t);
    }
    html.push_str(SORT_SCRIPT);
    html.push_str("</body></html>\n");
    let path = dir.join("index.html");
    crate::output::atomic_write(&path, html.as_bytes())?;
    Ok(path)
}
