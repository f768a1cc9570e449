//! Records the build's provenance for `--version` and the result files: the git commit
//! (or a fallback when built outside a git checkout, e.g. from a crates.io package) and the
//! build profile. Neither is part of a cell's identity.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    // Rebuilt when HEAD moves: a commit, a checkout or a branch update.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{head}");
        }
        // Only a file that exists: cargo reruns a build script that watches a missing file
        // on every build, and the whole crate is then compiled again.
        let packed = format!("{dir}/packed-refs");
        if std::path::Path::new(&packed).exists() {
            println!("cargo:rerun-if-changed={packed}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!(
        "cargo:rustc-env=SGD_ESCAPE_COMMIT={}",
        commit.as_deref().unwrap_or("unknown (built outside git)")
    );
    println!(
        "cargo:rustc-env=SGD_ESCAPE_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into())
    );
}
