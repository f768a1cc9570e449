//! A landscape and a noise law of one's own, with everything the built-ins get.
//!
//! `landscape.rs` defines two types outside the crate (a washboard objective and a
//! triangular noise law), each implementing sgd-escape's trait and declaring its identity
//! through [`sgd_escape::registry::Custom`]. Registered in a [`sgd_escape::Registry`], they
//! can be named in experiment files (`kind = "washboard"`, `law = "triangular"`), and this
//! program is the whole `sgd-escape` command line for them: sweeps, resume, `--shard` and
//! `merge`, `report`, `theorem`.
//!
//! ```text
//! cargo run --release --example custom_landscape                 # run experiment.toml
//! cargo run --release --example custom_landscape -- run FILE --shard 0/2
//! cargo run --release --example custom_landscape -- merge DIR…
//! cargo run --release --example custom_landscape -- report results/custom_landscape
//! ```
//!
//! Without arguments it runs `run` on `experiment.toml` (beside this file) and writes what
//! `sgd-escape run` writes, into `results/custom_landscape/`.

mod landscape;

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.len() == 1 {
        args.push("run".into());
    }
    sgd_escape::cli::main_from(args, &landscape::registry())
}
