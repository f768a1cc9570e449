#!/usr/bin/env bash
# Submits an sgd-escape sweep as a Slurm job array of N shards followed by a merge job that
# runs once every shard succeeded.
#   scripts/slurm/submit.sh experiments/sweep_eta.toml 16
set -euo pipefail
experiment=${1:?usage: submit.sh EXPERIMENT.toml N_SHARDS [RESULTS_ROOT]}
shards=${2:?usage: submit.sh EXPERIMENT.toml N_SHARDS [RESULTS_ROOT]}
root=${3:-results/shards}
here=$(cd "$(dirname "$0")" && pwd)
jid=$(sbatch --parsable --array=0-$((shards - 1)) "$here/sweep.sbatch" "$experiment" "$root")
sbatch --parsable --dependency=afterok:"$jid" "$here/merge.sbatch" "$experiment" "$root"
