//! Progress of long runs, on standard error: bars with ETA on a terminal, plain periodic
//! lines otherwise (logs of batch jobs), nothing with `--quiet`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars on a terminal, periodic lines otherwise.
    Auto,
    /// Nothing.
    Quiet,
}

/// Progress of a sweep (cells) and of the cell in flight (trajectories).
pub struct Progress {
    name: String,
    bars: Option<(MultiProgress, ProgressBar, ProgressBar)>,
    plain: bool,
    total_cells: u64,
    done_cells: u64,
    cell_trajectories: u64,
    started: Instant,
    last_line: Instant,
}

/// Seconds between plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(10);

impl Progress {
    /// Progress of `total_cells` cells of experiment `name`.
    pub fn new(name: &str, total_cells: u64, mode: ProgressMode) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bars = (mode == ProgressMode::Auto && terminal).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{prefix:>10} [{bar:40}] {pos}/{len} {msg} (ETA {eta})",
            )
            .expect("valid template")
            .progress_chars("=> ");
            let cells = multi.add(
                ProgressBar::new(total_cells)
                    .with_style(style.clone())
                    .with_prefix("cells"),
            );
            let cell = multi.add(
                ProgressBar::new(0)
                    .with_style(style)
                    .with_prefix("trajectories"),
            );
            (multi, cells, cell)
        });
        Self {
            name: name.to_string(),
            bars,
            plain: mode == ProgressMode::Auto && !terminal,
            total_cells,
            done_cells: 0,
            cell_trajectories: 0,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    /// A cell starts: `n` trajectories at most.
    pub fn start_cell(&mut self, label: &str, n: u64) {
        self.cell_trajectories = 0;
        if let Some((_, _, cell)) = &self.bars {
            cell.set_length(n);
            cell.set_position(0);
            cell.set_message(label.to_string());
        }
    }

    /// `k` more trajectories of the current cell are done.
    pub fn trajectories(&mut self, k: u64) {
        self.cell_trajectories += k;
        if let Some((_, _, cell)) = &self.bars {
            cell.inc(k);
        }
        self.maybe_line();
    }

    /// A cell is done (computed now, or found done by a resumed run).
    pub fn cell_done(&mut self) {
        self.done_cells += 1;
        if let Some((_, cells, _)) = &self.bars {
            cells.inc(1);
        }
        self.maybe_line();
    }

    fn maybe_line(&mut self) {
        if self.plain && self.last_line.elapsed() >= LINE_EVERY {
            self.last_line = Instant::now();
            let elapsed = self.started.elapsed().as_secs_f64();
            let eta = if self.done_cells > 0 {
                format!(
                    "{:.0} s",
                    elapsed / self.done_cells as f64 * (self.total_cells - self.done_cells) as f64
                )
            } else {
                "?".into()
            };
            eprintln!(
                "{}: {}/{} cells done, {} trajectories into the current one, {:.0} s elapsed, ETA {eta}",
                self.name, self.done_cells, self.total_cells, self.cell_trajectories, elapsed
            );
        }
    }

    /// A warning that must be seen, even with `--quiet`: above the bars, or a plain line.
    pub fn note(&self, message: &str) {
        match &self.bars {
            Some((multi, _, _)) => {
                let _ = multi.println(message);
            }
            None => eprintln!("{message}"),
        }
    }

    /// Clears the bars.
    pub fn finish(&self) {
        if let Some((multi, cells, cell)) = &self.bars {
            cell.finish_and_clear();
            cells.finish_and_clear();
            let _ = multi.clear();
        }
    }
}
