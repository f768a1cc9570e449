#!/usr/bin/env bash
# Submits an sgd-escape sweep as a Slurm job array of N shards followed by a merge job that
# runs once every task succeeded, and is cancelled if one fails. Prints the merge job's id.
#
#   scripts/slurm/submit.sh experiments/sweep_eta.toml 16
#   scripts/slurm/submit.sh experiments/sweep_eta.toml 16%4        # at most 4 tasks at once
#   scripts/slurm/submit.sh experiments/sweep_eta.toml 16 results/shards -- --mem=8G --time=2:00:00
#   scripts/slurm/submit.sh experiments/sweep_eta.toml 16 -- --array=3,7   # rerun two tasks
#
# Options after `--` go to sbatch: --mem, --time, --partition, --account, … reach both jobs;
# an --array of your own (a rerun of some tasks, your own %M throttle) replaces 0-(N-1) and
# goes to the array only. Every task is told N, so a rerun task computes its own shard.
# Task logs go to RESULTS_ROOT/NAME/logs/ (NAME: the experiment file's name), one file per
# task, with a progress line every 10 s.
set -euo pipefail
usage="usage: submit.sh EXPERIMENT.toml N_SHARDS[%MAX_RUNNING] [RESULTS_ROOT] [-- SBATCH_OPTIONS...]"
experiment=${1:?$usage}
count=${2:?$usage}
root=results/shards
shift 2
if [ $# -gt 0 ] && [ "$1" != "--" ]; then root=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

shards=${count%%%*}
throttle=
[ "$count" != "$shards" ] && throttle=%${count#*%}
if ! [[ $shards =~ ^[1-9][0-9]*$ && $throttle =~ ^(%[1-9][0-9]*)?$ ]]; then
    echo "error: N_SHARDS must be a positive integer, optionally with %MAX_RUNNING (16, 16%4); got '$count'" >&2
    exit 2
fi
[ -f "$experiment" ] || { echo "error: no experiment file $experiment" >&2; exit 2; }

# The user's --array (for the array job only) and everything else (for both jobs).
array=0-$((shards - 1))$throttle
both=()
while [ $# -gt 0 ]; do
    case $1 in
        --array=*) array=${1#--array=} ;;
        --array | -a) array=${2:?--array needs a value}; shift ;;
        -a*) array=${1#-a} ;;
        *) both+=("$1") ;;
    esac
    shift
done
# Indices a task can compute: each must be below N (the %M throttle and :step are Slurm's).
for part in $(tr ',' ' ' <<<"${array%%\%*}"); do
    for i in $(tr -- '-' ' ' <<<"${part%%:*}"); do
        if ! [[ $i =~ ^[0-9]+$ ]] || [ "$i" -ge "$shards" ]; then
            echo "error: --array=$array names task '$i', but the shards are 0..$((shards - 1))" >&2
            exit 2
        fi
    done
done

# The binary, found now rather than in a queued task: $SGD_ESCAPE_BIN, sgd-escape on the
# PATH, or target/release/ here. The jobs inherit SGD_ESCAPE_BIN (sbatch exports the
# environment), so every task runs this same binary.
bin=${SGD_ESCAPE_BIN:-$(command -v sgd-escape || true)}
[ -z "$bin" ] && [ -x target/release/sgd-escape ] && bin=$PWD/target/release/sgd-escape
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "error: sgd-escape not found${bin:+ at $bin}: put it on the PATH (cargo install --path .)," \
        "build it here (cargo build --release), or set SGD_ESCAPE_BIN" >&2
    exit 2
fi
SGD_ESCAPE_BIN=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
export SGD_ESCAPE_BIN

name=$(basename "$experiment" .toml)
logs=$root/$name/logs
mkdir -p "$logs"
here=$(cd "$(dirname "$0")" && pwd)
# Defaults first, so the user's options (later on the command line) win.
jid=$(sbatch --parsable --job-name="sgd-escape-$name" --output="$logs/%x-%A_%a.log" \
    "${both[@]}" --array="$array" "$here/sweep.sbatch" "$experiment" "$root" "$shards")
jid=${jid%%;*}
sbatch --parsable --job-name="sgd-escape-$name-merge" --output="$logs/%x-%j.log" \
    "${both[@]}" --dependency=afterok:"$jid" --kill-on-invalid-dep=yes \
    "$here/merge.sbatch" "$experiment" "$root"
