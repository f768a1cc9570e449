//! The `sgd-escape` command line: the built-in kinds (a program of its own can add kinds
//! through `sgd_escape::Registry` and run this same command line).

fn main() -> std::process::ExitCode {
    sgd_escape::cli::main(&sgd_escape::Registry::new())
}
