//! `report` returns on every valid result directory: diverging runs (a drift curve near
//! 1e308) and final points that are all the same number.

use std::path::Path;
use std::time::Duration;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_sgd-escape");

/// Runs `sgd-escape args`, killing it after `limit`; panics on failure or a hang.
fn within(args: &[&str], limit: Duration) {
    let (code, err) = common::run_within(BIN, args, limit);
    assert_eq!(code, Some(0), "{args:?}: {err}");
}

fn run_and_report(dir: &Path, name: &str, text: &str) {
    let f = dir.join(format!("{name}.toml"));
    std::fs::write(&f, text).unwrap();
    let out = dir.join(name);
    let (f, o) = (f.to_str().unwrap(), out.to_str().unwrap());
    within(&["run", f, "-q", "--out", o], Duration::from_secs(120));
    within(&["report", o], Duration::from_secs(60));
    assert!(out.join("index.html").exists());
}

#[test]
fn report_returns_on_a_diverging_run_with_a_theorem_check() {
    let dir = tempfile::tempdir().unwrap();
    // η k = 2.9: |1 − ηk| = 1.9, ‖y_t‖² overflows after about 550 steps; the drift curve's
    // last finite points are near the top of the floating-point range.
    run_and_report(
        dir.path(),
        "diverging",
        r#"
        trajectories = 200
        objective = { kind = "quadratic", dim = 2, k = 1.0 }
        noise = { law = "ball", r = 1.0 }
        dynamics = { eta = 2.9, steps = 1200 }
        init = { kind = "ball", radius = 3.0 }
        events = { reach_radius = 0.5 }
        [theorem]
        t1 = 1100
        t2 = 100
        samples = 50
        "#,
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("diverging/theorem.json")).unwrap())
            .unwrap();
    assert!(json["reports"][0]["drift"].as_array().unwrap().len() > 10);
    // The last finite point of such a curve can sit just below f64::MAX, where the axis
    // range (× 1.3) used to overflow to infinity and the plot never returned.
    let mut json = json;
    let last = json["reports"][0]["drift"]
        .as_array_mut()
        .unwrap()
        .last_mut()
        .unwrap();
    last["mean"]["mean"] = 1.2e308.into();
    last["mean"]["lower"] = 1.0e308.into();
    last["mean"]["upper"] = 1.5e308.into();
    std::fs::write(
        dir.path().join("diverging/theorem.json"),
        serde_json::to_vec(&json).unwrap(),
    )
    .unwrap();
    within(
        &["report", dir.path().join("diverging").to_str().unwrap()],
        Duration::from_secs(60),
    );
}

#[test]
fn report_returns_when_every_final_point_is_the_same() {
    let dir = tempfile::tempdir().unwrap();
    // 0.49999999999999994 lands in bin 60 of 60 by rounding (the old panic).
    for (i, x) in [
        "0.49999999999999994",
        "0.0",
        "0.5",
        "0.7",
        "-2.0",
        "3.0",
        "1e200",
    ]
    .iter()
    .enumerate()
    {
        run_and_report(
            dir.path(),
            &format!("same{i}"),
            &format!(
                r#"
                trajectories = 100
                objective = {{ kind = "quadratic", dim = 1, k = 1.0 }}
                noise = {{ law = "none" }}
                dynamics = {{ eta = 1e-300, steps = 1 }}
                init = {{ kind = "point", point = {x} }}
                events = {{ reach_radius = 0.5 }}
                "#
            ),
        );
    }
}

/// Every kind of result directory can be reported: shards merged into a directory of their
/// own (which gets the cells and its own `run.json`, so it reads as the one-process run
/// does: the same plots), and a directory written by `theorem` alone (its drift plot).
#[test]
fn report_works_on_merged_and_theorem_directories() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("q.toml");
    std::fs::write(
        &f,
        r#"
        trajectories = 100
        objective = { kind = "quadratic", dim = 2, k = 1.0 }
        noise = { law = "ball", r = 1.0 }
        dynamics = { eta = 0.05, steps = 100 }
        init = { kind = "box", lo = -3.0, hi = 3.0 }
        events = { reach_radius = 0.5, stay_radius = 1.0, stay_from = 50 }
        [[sweep.axis]]
        path = "dynamics.eta"
        values = [0.01, 0.05, 0.1]
        [theorem]
        t1 = 80
        t2 = 20
        samples = 20
        "#,
    )
    .unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (f, whole, merged) = (f.to_str().unwrap(), p("whole"), p("merged"));
    let long = Duration::from_secs(120);
    within(&["run", f, "-q", "--out", &whole], long);
    within(&["report", &whole], long);
    // The page: provenance, links to the data, the theorem table, a sortable summary.
    let index = std::fs::read_to_string(Path::new(&whole).join("index.html")).unwrap();
    let version = std::process::Command::new(BIN)
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    let commit = version
        .split("(commit ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap_or_else(|| panic!("--version names no commit: {version}"));
    assert!(
        commit == "unknown (built outside git)"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{version}"
    );
    for want in [
        format!("<td>{commit}</td>"),
        format!(
            "<th>numerics version</th><td>{}</td>",
            sgd_escape::NUMERICS_VERSION
        ),
        "<th>seed</th>".to_string(),
        "<th>written (UTC)</th><td>20".to_string(),
        format!("<th>command line</th><td>{BIN} run"),
        "<a href=\"summary.csv\">".to_string(),
        "<a href=\"theorem.csv\">".to_string(),
        "<h2>Theorem 1 check".to_string(),
        "<table class=\"sortable\">".to_string(),
        "<script>".to_string(),
    ] {
        assert!(index.contains(&want), "{want} not in {index}");
    }
    assert!(!index.contains("src=\"http"), "the page fetches nothing");
    for k in 0..2 {
        let shard = format!("{k}/2");
        within(
            &[
                "run",
                f,
                "-q",
                "--shard",
                &shard,
                "--out",
                &p(&format!("s{k}")),
            ],
            long,
        );
    }
    within(&["merge", &p("s0"), &p("s1"), "--out", &merged], long);
    let cells = |d: &str| {
        std::fs::read_dir(Path::new(d).join("cells"))
            .unwrap()
            .count()
    };
    assert_eq!(cells(&merged), cells(&whole));
    // Its own run.json, with the one-process run's summaries.
    let summaries = |d: &str| {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(Path::new(d).join("run.json")).unwrap()).unwrap();
        let configs = v["configs"].as_array().unwrap().clone();
        configs
            .iter()
            .map(|c| c["summary"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(summaries(&merged).len(), 3);
    assert_eq!(summaries(&merged), summaries(&whole));
    within(&["report", &merged], long);
    for plot in ["probabilities.svg", "hitting_times.svg", "final_points.svg"] {
        let read = |d: &str| std::fs::read(Path::new(d).join("plots").join(plot)).unwrap();
        assert!(read(&merged) == read(&whole), "{plot} differs");
    }
    assert!(Path::new(&merged).join("index.html").exists());
    // Merged into its first input (the default `--out`), twice: the second merge reads the
    // copies the first one made, and both write the one-process bytes.
    for _ in 0..2 {
        within(&["merge", &p("s0"), &p("s1")], long);
        for name in ["summary.csv", "trajectories.csv"] {
            let read = |d: &str| std::fs::read(Path::new(d).join(name)).unwrap();
            assert!(read(&p("s0")) == read(&whole), "{name} differs");
        }
    }
    // `theorem` alone: the drift plot and an index.
    let t = p("theorem");
    within(&["theorem", f, "--out", &t], long);
    within(&["report", &t], long);
    let drift = std::fs::read_to_string(Path::new(&t).join("plots/drift.svg")).unwrap();
    assert!(
        drift.contains("Theorem 1"),
        "{}",
        &drift[..200.min(drift.len())]
    );
    let index = std::fs::read_to_string(Path::new(&t).join("index.html")).unwrap();
    assert!(index.contains("plots/drift.svg"), "{index}");
}

/// Nothing is dropped silently, and legends are in numeric order: final points outside a
/// histogram's range are counted on its panel, plots that show some of the configurations
/// say how many, and the legend lists r = 5, 10, 20 in that order (not as text sorts them).
#[test]
fn plots_count_what_they_leave_out_and_sort_legends_by_value() {
    let dir = tempfile::tempdir().unwrap();
    run_and_report(
        dir.path(),
        "wide",
        r#"
        trajectories = 60
        objective = { kind = "quadratic", dim = 1, k = 1.0 }
        noise = { law = "gaussian", sigma = 1.0 }
        dynamics = { eta = 0.05, steps = 30 }
        init = { kind = "box", lo = -3.0, hi = 3.0 }
        events = { reach_radius = 0.5 }
        [[sweep.axis]]
        path = "noise.sigma"
        values = [5.0, 10.0, 20.0]
        [[sweep.axis]]
        path = "dynamics.eta"
        values = [0.01, 0.02, 0.05, 0.1]
        "#,
    );
    let plot =
        |name: &str| std::fs::read_to_string(dir.path().join("wide/plots").join(name)).unwrap();
    // The words of the texts, in order (a title may wrap onto several lines).
    let words = |name: &str| {
        plot(name)
            .split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split_once("</text>")?
                        .0
                        .trim()
                        .to_string(),
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let finals = words("final_points.svg");
    assert!(
        finals.contains("(6 of 12 configurations shown)"),
        "final points"
    );
    assert!(
        finals.contains("points outside ["),
        "no count of the points outside"
    );
    assert!(words("hitting_times.svg").contains("(8 of 12 configurations shown)"));
    let probabilities = plot("probabilities.svg");
    let at = |s: &str| {
        probabilities
            .find(&format!("\n{s}\n"))
            .unwrap_or_else(|| panic!("legend entry {s} missing"))
    };
    assert!(at("sigma=5") < at("sigma=10") && at("sigma=10") < at("sigma=20"));
}

/// A parameter swept geometrically (`log = [from, to, count]`) is drawn on a log axis: its
/// values sit evenly spaced; the same values listed by hand sit on a linear axis.
#[test]
fn a_geometric_sweep_gets_a_log_axis() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = |axis: &str| {
        format!(
            r#"
        trajectories = 20
        objective = {{ kind = "quadratic", dim = 1, k = 1.0 }}
        noise = {{ law = "gaussian", sigma = 0.1 }}
        dynamics = {{ eta = 0.05, steps = 20 }}
        init = {{ kind = "box", lo = -1.0, hi = 1.0 }}
        events = {{ reach_radius = 0.5 }}
        [[sweep.axis]]
        path = "dynamics.eta"
        {axis}
        "#
        )
    };
    run_and_report(
        dir.path(),
        "geometric",
        &experiment("log = [0.001, 0.1, 3]"),
    );
    run_and_report(
        dir.path(),
        "listed",
        &experiment("values = [0.001, 0.01, 0.1]"),
    );
    // The x of each estimate's marker (a circle) in the P(reach) panel, the first three.
    let xs = |name: &str| -> Vec<f64> {
        let svg =
            std::fs::read_to_string(dir.path().join(name).join("plots/probabilities.svg")).unwrap();
        let mut xs: Vec<f64> = svg
            .split("<circle")
            .skip(1)
            .map(|c| {
                let at = c.find("cx=\"").unwrap() + 4;
                c[at..at + c[at..].find('"').unwrap()].parse().unwrap()
            })
            .take(3)
            .collect();
        xs.sort_by(f64::total_cmp);
        xs
    };
    let (log, lin) = (xs("geometric"), xs("listed"));
    assert_eq!((log.len(), lin.len()), (3, 3));
    let gaps = |x: &[f64]| (x[1] - x[0], x[2] - x[1]);
    let (a, b) = gaps(&log);
    assert!((a - b).abs() <= 1.0, "log axis: {log:?}");
    let (a, b) = gaps(&lin);
    assert!(b > 5.0 * a, "linear axis: {lin:?}");
}

/// Copies what a fresh clone ships of a result directory: its files, without the resume
/// files (`cells/`, `sweep.json`, ignored by git) and without what `report` writes.
fn shipped_copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        let name = name.to_str().unwrap();
        if e.path().is_file() && !["sweep.json", "index.html"].contains(&name) {
            std::fs::copy(e.path(), to.join(name)).unwrap();
        }
    }
}

/// `report` draws every shipped result directory from what a fresh clone has of it, each
/// plot its files allow.
#[test]
fn report_works_on_every_shipped_result_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let mut dirs: Vec<_> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "{dirs:?}");
    for d in dirs {
        let copy = tmp.path().join(d.file_name().unwrap());
        shipped_copy(&d, &copy);
        within(
            &["report", copy.to_str().unwrap()],
            Duration::from_secs(120),
        );
        let has = |f: &str| copy.join(f).exists();
        let want = [
            ("summary.csv", "probabilities.svg"),
            ("trajectories.csv", "final_points.svg"),
            ("theorem.json", "drift.svg"),
            ("convexity.json", "convexity.svg"),
            ("coverage.csv", "coverage.svg"),
        ];
        for (input, plot) in want {
            assert_eq!(
                has(input),
                has(&format!("plots/{plot}")),
                "{}: {input} and {plot}",
                d.display()
            );
        }
        assert!(has("index.html"), "{}", d.display());
        let mut svgs = 0;
        for e in std::fs::read_dir(copy.join("plots")).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "svg") {
                fit_for_print(&path);
                svgs += 1;
            }
        }
        // Every figure on both sheets.
        assert_eq!(svgs % 2, 0, "{}", d.display());
    }
}

/// An SVG declares its physical width, 175 mm (two journal columns) or 85 mm (one, the
/// `-85mm` files), and every text in it is at least 8 pt at that size. With PDF and PNG
/// output (feature `figures`): no text leaves the page or covers another as the bundled
/// font sets it, the PDF page is the declared size, the PNG is 300 dpi at that size and
/// says so.
fn fit_for_print(path: &Path) {
    let svg = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    let width_mm = if name.ends_with("-85mm.svg") {
        85.0
    } else {
        175.0
    };
    let attr = |tag: &str, name: &str| -> String {
        let at = tag
            .find(&format!(" {name}=\""))
            .unwrap_or_else(|| panic!("no {name}: {tag}"));
        let rest = &tag[at + name.len() + 3..];
        rest[..rest.find('"').unwrap()].to_string()
    };
    let head = &svg[..svg.find('>').unwrap()];
    assert_eq!(
        attr(head, "width"),
        format!("{width_mm}mm"),
        "{name}: {head}"
    );
    let height_mm: f64 = attr(head, "height")
        .strip_suffix("mm")
        .unwrap()
        .parse()
        .unwrap();
    let view: Vec<f64> = attr(head, "viewBox")
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    // The height in proportion to the drawing's.
    assert!(
        (height_mm - width_mm * view[3] / view[2]).abs() < 0.01,
        "{name}: {head}"
    );
    let pt_per_px = width_mm / 25.4 * 72.0 / view[2];
    let mut texts = 0;
    for tag in svg.split("<text").skip(1) {
        let tag = &tag[..tag.find('>').unwrap()];
        let px: f64 = attr(tag, "font-size").parse().unwrap();
        assert!(
            px * pt_per_px >= 8.0,
            "{name}: {} pt: {tag}",
            px * pt_per_px
        );
        texts += 1;
    }
    assert!(texts > 0);
    #[cfg(feature = "figures")]
    {
        use sgd_escape::report::export;
        let ((w, h), boxes) = export::text_boxes(path).unwrap();
        assert_eq!((f64::from(w), f64::from(h)), (view[2], view[3]));
        assert!(boxes.len() >= texts, "{name}: {} of {texts}", boxes.len());
        for b in &boxes {
            let [l, t, r, btm] = b.rect;
            assert!(
                l >= 0.0 && t >= 0.0 && r <= w && btm <= h,
                "{name}: {:?} at {:?} leaves the {w} × {h} page",
                b.text,
                b.rect
            );
            assert!(
                export::missing_glyphs(&b.text).is_empty(),
                "{name}: {:?}",
                b.text
            );
        }
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let dx = a.rect[2].min(b.rect[2]) - a.rect[0].max(b.rect[0]);
                let dy = a.rect[3].min(b.rect[3]) - a.rect[1].max(b.rect[1]);
                assert!(
                    dx <= 1.0 || dy <= 1.0,
                    "{name}: {:?} at {:?} covers {:?} at {:?}",
                    a.text,
                    a.rect,
                    b.text,
                    b.rect
                );
            }
        }
        // The PDF page: the declared size in points.
        let pdf = std::fs::read(path.with_extension("pdf")).unwrap();
        let pdf = String::from_utf8_lossy(&pdf);
        let media = pdf
            .split_once("/MediaBox [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .unwrap()
            .0;
        let media: Vec<f64> = media.split(' ').map(|v| v.parse().unwrap()).collect();
        let pt = |mm: f64| mm / 25.4 * 72.0;
        assert!((media[2] - pt(width_mm)).abs() < 0.01, "{name}: {media:?}");
        assert!((media[3] - pt(height_mm)).abs() < 0.05, "{name}: {media:?}");
        // The PNG: 300 dpi at the declared width, and its pHYs chunk says so.
        let png = std::fs::read(path.with_extension("png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!(
            f64::from(be(16)),
            (width_mm / 25.4 * 300.0).round(),
            "{name}"
        );
        assert!(
            (f64::from(be(20)) - height_mm / 25.4 * 300.0).abs() <= 1.0,
            "{name}"
        );
        let phys = png.windows(4).position(|w| w == b"pHYs").unwrap();
        assert_eq!(
            (be(phys + 4), be(phys + 8), png[phys + 12]),
            (11811, 11811, 1)
        );
    }
}

/// Files of two runs are never mixed on a plot: `report` refuses a `run.json` or a
/// `trajectories.csv` from another run, and a damaged `summary.csv`, saying which file.
#[test]
fn report_refuses_files_from_another_run() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
        trajectories = 200
        objective = { kind = "quadratic", dim = 1, k = 1.0 }
        noise = { law = "ball", r = 1.0 }
        dynamics = { eta = 0.02, steps = 60 }
        init = { kind = "box", lo = -3.0, hi = 3.0 }
        events = { reach_radius = 0.5 }
        [[sweep.axis]]
        path = "dynamics.eta"
        values = [0.01, 0.02]
        "#;
    let p = |name: &str| dir.path().join(name);
    for (name, seed, eta) in [("a", 1, "0.01"), ("b", 2, "0.01"), ("c", 1, "0.03")] {
        let t = format!(
            "seed = {seed}\n{}",
            text.replace("0.01, 0.02", &format!("{eta}, 0.02"))
        );
        std::fs::write(p(&format!("{name}.toml")), t).unwrap();
        let (f, o) = (p(&format!("{name}.toml")), p(name));
        within(
            &[
                "run",
                f.to_str().unwrap(),
                "-q",
                "--out",
                o.to_str().unwrap(),
            ],
            Duration::from_secs(120),
        );
    }
    let refused = |files: &[(&str, &str)], says: &str| {
        let d = p("mixed");
        let _ = std::fs::remove_dir_all(&d);
        shipped_copy(&p("a"), &d);
        for (file, from) in files {
            std::fs::copy(p(from).join(file), d.join(file)).unwrap();
        }
        let (code, err) = common::run_within(
            BIN,
            &["report", d.to_str().unwrap()],
            Duration::from_secs(60),
        );
        assert_ne!(code, Some(0), "{files:?} accepted");
        assert!(err.contains(says), "{files:?}: {err}");
    };
    // Another seed: the same labels and counts, other trajectories.
    refused(&[("trajectories.csv", "b")], "trajectories.csv");
    // Another sweep: other configurations.
    refused(&[("run.json", "c")], "run.json");
    // A probability outside [0, 1], by line and column.
    let d = p("damaged");
    shipped_copy(&p("a"), &d);
    let summary = std::fs::read_to_string(d.join("summary.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(summary.as_bytes());
    let at = rd
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "reach_upper")
        .unwrap();
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(rd.headers().unwrap()).unwrap();
    for (i, rec) in rd.records().enumerate() {
        let mut rec: Vec<String> = rec.unwrap().iter().map(str::to_string).collect();
        if i == 1 {
            rec[at] = "1.5".into();
        }
        w.write_record(&rec).unwrap();
    }
    std::fs::write(d.join("summary.csv"), w.into_inner().unwrap()).unwrap();
    let (code, err) = common::run_within(
        BIN,
        &["report", d.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert_ne!(code, Some(0));
    assert!(err.contains("line 3") && err.contains("reach"), "{err}");
}

/// `figure3.toml` (at 400 runs a panel) is drawn in the paper's layout, every histogram
/// saying how many final points lie outside [−3, 3] (counted here from trajectories.csv),
/// and compared with the paper panel by panel; its two "0.3 from [−3, 3]" panels are
/// independent samples, and without `stream` they would be one sample drawn twice (which
/// `run` points out).
#[test]
fn figure3_in_the_papers_layout_counts_what_it_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("experiments/figure3.toml"))
        .unwrap()
        .replace("trajectories = 10_000", "trajectories = 400");
    run_and_report(dir.path(), "figure3", &text);
    let out = dir.path().join("figure3");

    // Per label: the final x of every trajectory, in index order.
    let mut finals: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let mut rd = csv::Reader::from_path(out.join("trajectories.csv")).unwrap();
    let h = rd.headers().unwrap().clone();
    let (ci, xi) = (
        h.iter().position(|c| c == "config").unwrap(),
        h.iter().position(|c| c == "x_1").unwrap(),
    );
    for r in rd.records() {
        let r = r.unwrap();
        let x = r[xi].parse::<f64>().unwrap_or(f64::NAN);
        finals.entry(r[ci].to_string()).or_default().push(x);
    }
    let labels = [
        "GD",
        "noise 0.15",
        "noise 0.3",
        "noise 0.6",
        "restart 0.3 on [-3, 3]",
        "restart 0.15 on [-1.5, 1.5]",
        "restart 0.05 on [-0.5, 0.5]",
        "restart 0.01 on [-0.3, 0.3]",
    ];
    let expected: Vec<usize> = labels
        .iter()
        .map(|l| {
            finals[*l]
                .iter()
                .filter(|x| x.is_nan() || x.abs() > 3.0)
                .count()
        })
        .collect();
    assert!(expected.iter().any(|&k| k > 0), "{expected:?}");
    assert!(expected.contains(&0), "{expected:?}");
    for name in ["figure3.svg", "figure3-85mm.svg"] {
        fit_for_print(&out.join("plots").join(name));
    }
    let svg = std::fs::read_to_string(out.join("plots/figure3.svg")).unwrap();
    let shown: Vec<usize> = svg
        .lines()
        .filter_map(|l| l.trim().strip_suffix(" outside"))
        .map(|k| k.parse().unwrap())
        .collect();
    assert_eq!(shown, expected);

    // One comparison row per panel, from the same final points.
    let mut rd = csv::Reader::from_path(out.join("plots/figure3_comparison.csv")).unwrap();
    let h = rd.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 8);
    for (r, label) in rows.iter().zip(labels) {
        assert_eq!(&r[col("panel")], label);
        let within = finals[label].iter().filter(|x| x.abs() <= 0.5).count();
        assert_eq!(r[col("count_le_0.5")].parse::<usize>().unwrap(), within);
        let share: f64 = r[col("share_le_0.5")].parse().unwrap();
        let (lo, hi): (f64, f64) = (
            r[col("share_le_0.5_lower")].parse().unwrap(),
            r[col("share_le_0.5_upper")].parse().unwrap(),
        );
        assert!(lo <= share && share <= hi);
        let (p, holm): (f64, f64) = (
            r[col("p_value")].parse().unwrap(),
            r[col("p_holm")].parse().unwrap(),
        );
        assert!(0.0 < p && p <= holm && holm <= 1.0, "{p} {holm}");
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("Against the paper's Figure 3"));

    // The two "0.3 from [−3, 3]" panels: same setting, other trajectories.
    let (a, b) = (&finals["noise 0.3"], &finals["restart 0.3 on [-3, 3]"]);
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    assert!(same < 40, "{same} of 400 final points equal");

    // Without the stream they are one sample twice, and `run` says so.
    let twice = text.replace("stream = 1\n", "");
    let f = dir.path().join("twice.toml");
    std::fs::write(&f, &twice).unwrap();
    let o = dir.path().join("twice");
    let (code, err) = common::run_within(
        BIN,
        &[
            "run",
            f.to_str().unwrap(),
            "-q",
            "--out",
            o.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(
            r#"configurations "noise 0.3" and "restart 0.3 on [-3, 3]" draw the same trajectories"#
        ),
        "{err}"
    );
    let mut rd = csv::Reader::from_path(o.join("trajectories.csv")).unwrap();
    let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in rd.records() {
        let r = r.unwrap();
        by.entry(r[ci].to_string())
            .or_default()
            .push(r[xi].to_string());
    }
    assert_eq!(by["noise 0.3"], by["restart 0.3 on [-3, 3]"]);
}

/// `completions SHELL` prints a script that completes every command for the program's
/// name; an unknown shell is a usage error.
#[test]
fn shell_completions_name_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = std::process::Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("sgd-escape"), "{shell}: {script}");
        for command in ["run", "merge", "report", "theorem", "bench", "completions"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let bash = std::process::Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    // A real bash completion script: it defines the function it registers.
    let bash = String::from_utf8_lossy(&bash.stdout);
    assert!(
        bash.contains("complete -F") && bash.contains("sgd-escape"),
        "{bash}"
    );
    let bad = std::process::Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// `run`, `theorem` and `convexity` print tables that fit 80 columns (columns left out are
/// named under the table, labels shortened with "…"); `--wide` prints every column.
#[test]
fn default_tables_fit_80_columns_and_wide_shows_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wide.toml");
    std::fs::write(
        &file,
        r#"
name = "wide"
seed = 5
trajectories = 300
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "ball", r = 1.0 }
init = { kind = "ball", radius = 3.0 }
events = { reach_radius = 1.1287, stay_radius = 2.0 }
stats = { thresholds = { reach = 0.5, stay = 0.5 } }

[theorem]
t2 = 200
samples = 100
traced = 4

[convexity]
trajectories = 4
points = 5
radius = 0.5

[[config]]
label = "a rather long label that says what this configuration is about, eta = 0.1"
dynamics = { eta = 0.1, steps = 200 }

[[config]]
label = "eta = 0.02"
dynamics = { eta = 0.02, steps = 200 }
"#,
    )
    .unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let lines_over = |text: &str, limit: usize| -> Vec<String> {
        text.lines()
            .filter(|l| l.chars().count() > limit)
            .map(String::from)
            .collect()
    };
    for (command, every_column) in [
        ("run", &["steps/s", "mean ‖x_T−x*‖", "P(reach) ≥ 0.5?"][..]),
        ("theorem", &["P_eff(reach)", "20b_eff/λ_eff", "slack"][..]),
        (
            "convexity",
            &["5.3 min ‖x_T^i − x_T^j‖", "5.2 min lower bound"][..],
        ),
    ] {
        let out = dir.path().join(command);
        let narrow = common::cli_ok(&[command, &s(&file), "--out", &s(&out)]);
        let narrow = String::from_utf8_lossy(&narrow.stdout).into_owned();
        assert!(lines_over(&narrow, 80).is_empty(), "{command}:\n{narrow}");
        assert!(narrow.contains("--wide shows them"), "{command}:\n{narrow}");
        assert!(
            narrow.contains("a rather long label that sa…"),
            "{command}:\n{narrow}"
        );
        let wide = common::cli_ok(&[command, &s(&file), "--out", &s(&out), "--wide"]);
        let wide = String::from_utf8_lossy(&wide.stdout).into_owned();
        assert!(!lines_over(&wide, 80).is_empty(), "{command}:\n{wide}");
        assert!(!wide.contains("--wide"), "{command}:\n{wide}");
        assert!(wide.contains("what this configuration is about, eta = 0.1"));
        for column in every_column {
            assert!(wide.contains(column), "{command}: {column}\n{wide}");
        }
    }
}
