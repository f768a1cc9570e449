#!/usr/bin/env bash
# Submits an sgd-escape sweep as a Slurm job array of N shards followed by a merge job that
# runs once every shard succeeded. Options after `--` go to both sbatch calls.
#   scripts/slurm/submit.sh experiments/sweep_eta.toml 16
#   scripts/slurm/submit.sh experiments/sweep_eta.toml 4 results/shards -- --partition=short
# Prints the merge job's id.
set -euo pipefail
experiment=${1:?usage: submit.sh EXPERIMENT.toml N_SHARDS [RESULTS_ROOT] [-- SBATCH_OPTIONS...]}
shards=${2:?usage: submit.sh EXPERIMENT.toml N_SHARDS [RESULTS_ROOT] [-- SBATCH_OPTIONS...]}
root=results/shards
shift 2
if [ $# -gt 0 ] && [ "$1" != "--" ]; then root=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
here=$(cd "$(dirname "$0")" && pwd)
jid=$(sbatch --parsable "$@" --array=0-$((shards - 1)) "$here/sweep.sbatch" "$experiment" "$root")
sbatch --parsable "$@" --dependency=afterok:"$jid" "$here/merge.sbatch" "$experiment" "$root"
