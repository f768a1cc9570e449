#!/usr/bin/env bash
# Regenerates the shipped results under results/ with this version of sgd-escape (needed
# after a numerics version bump: result directories of another version are refused, not
# resumed). Each directory is computed afresh in a temporary directory, and only the files
# the repository tracks in it are copied back, so nothing else in results/ is touched.
# What each directory runs follows from what it ships: `convexity` for digits, `calibrate`
# for calibrate, `run` otherwise (with the experiment file of the same name; trajectories
# where trajectories.csv or a plot drawn from it is shipped); `report` where index.html or a plot is shipped (each
# shipped figure with its PDF, PNG and 85 mm files, all written by `report`). The digits warm start and
# reference run come first, since later experiments read their final points.
# About 12 minutes on 2 cores. Usage: bash scripts/regenerate_results.sh [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=$PWD/target/release/sgd-escape
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Runs a command with its output kept aside, shown only when it fails.
quiet() { "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }; }

order="digits_warmup digits_reference"
all=$(git ls-files results | cut -d/ -f2 | sort -u)
names=${*:-$order $(echo "$all" | grep -vxF -e digits_warmup -e digits_reference)}

for name in $names; do
    tracked=$(git ls-files "results/$name")
    [ -n "$tracked" ] || { echo "results/$name: nothing shipped" >&2; exit 1; }
    out=$tmp/$name
    start=$(date +%s)
    case $name in
    calibrate) quiet "$bin" calibrate --out "$out" ;;
    digits) quiet "$bin" convexity "experiments/$name.toml" --out "$out" ;;
    # The library API's example: its own program, its own experiment file.
    custom_landscape) quiet cargo run --release -q --example custom_landscape -- run --out "$out" ;;
    *)
        # Trajectories where they are shipped, or where a shipped plot is drawn from them
        # (results/figure3 ships its figure and comparison, not its 10 MB of trajectories).
        keep=--no-trajectories
        grep -qx -e "results/$name/trajectories.csv" -e "results/$name/plots/figure3_comparison.csv" <<<"$tracked" && keep=
        quiet "$bin" run "experiments/$name.toml" --out "$out" $keep
        ;;
    esac
    if grep -q -e "^results/$name/index.html$" -e "^results/$name/plots/" <<<"$tracked"; then
        quiet "$bin" report "$out"
    fi
    # A page shipped without the trajectories it was drawn from does not link them.
    if [ -e "$out/index.html" ] && ! grep -qx "results/$name/trajectories.csv" <<<"$tracked"; then
        sed -i '/<li><a href="trajectories.csv">/d' "$out/index.html"
    fi
    for file in $tracked; do
        rel=${file#results/$name/}
        cp "$out/$rel" "$file"
        # A shipped figure ships with its PDF, PNG and one-column (85 mm) files.
        if [[ $rel == plots/*.svg && $rel != *-85mm.svg ]]; then
            for ext in pdf png; do cp "$out/${rel%.svg}.$ext" "results/$name/${rel%.svg}.$ext"; done
            for ext in svg pdf png; do cp "$out/${rel%.svg}-85mm.$ext" "results/$name/${rel%.svg}-85mm.$ext"; done
        fi
    done
    echo "results/$name: $(( $(date +%s) - start )) s"
done
