#!/usr/bin/env bash
# tune-array.sh: tune every kernel spec in kernels/ on a Slurm cluster, one
# GPU per array task. Each task tunes its shard of the (spec, shape) work
# items (`--shard auto` reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and
# SLURM_ARRAY_TASK_COUNT) and writes fragments/<spec>.shard-<I>-of-8.tuned.json.
# Every task computes the same partition, so the tasks need no coordination.
# The array must be one evenly stepped range (0-7, 1-8 or 0-14:2), not a list.
#
#   sbatch examples/slurm/tune-array.sh
#
# Preview a task's items without a GPU:
#   helion-tune tune kernels/!(*.tuned).json --shard 3/8 --dry-run   # bash, shopt -s extglob
#
#SBATCH --job-name=helion-tune
#SBATCH --array=0-7
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=16
#SBATCH --time=04:00:00
#SBATCH --output=logs/tune-%A_%a.log
set -euo pipefail
# The specs are kernels/*.json less the results files next to them
# (kernels/<name>.tuned.json): those are not specs.
specs=()
for f in kernels/*.json; do
  [[ $f == *.tuned.json ]] || specs+=("$f")
done

mkdir -p fragments
# --jobs: the NVRTC compile processes of this task; the task's CPUs.
helion-tune tune "${specs[@]}" --shard auto --fragment-dir fragments/ \
  --jobs "${SLURM_CPUS_PER_TASK:-16}"

# When every task has finished (e.g. a job submitted with
# --dependency=afterok:<array job id>), merge the fragments. A results file
# holds one kernel's entries, so merge per kernel, into a new file
#   helion-tune results merge fragments/matmul.*.tuned.json -o kernels/matmul.tuned.json
# or into the committed results file in place, for every kernel:
#   for f in fragments/*.shard-0-of-8.tuned.json; do
#     k=$(basename "$f" .shard-0-of-8.tuned.json)
#     helion-tune results merge fragments/"$k".shard-*.tuned.json \
#       --into kernels/"$k".tuned.json
#   done
# (a kernel with fewer than 8 shapes has no fragment in some shards; use
# `ls fragments | sed 's/\.shard-.*//' | sort -u` for the list of kernels).
