#!/usr/bin/env bash
# Download the upstream test files that peer_suites/run_all.sh runs, at the commits and tags its
# figures were measured at, into a folder OUTSIDE the repository: they are other people's code,
# never to be committed here. Needs bash, curl, GNU tar and python3, and access to GitHub.
#
# Usage:  bash peer_suites/fetch_upstream.sh [DEST]
#   DEST defaults to $PEERS, else ../cadence-upstream next to the repository (where run_all.sh
#   looks by default). Files already there are replaced.
#
# What it fetches (single files from raw.githubusercontent.com, test folders from the
# repository's archive at that ref on github.com):
#   torch/test_lrscheduler.py       pytorch/pytorch 01f9ef32eae5ef513002dd44902c23cbe6be3aae
#                                   test/optim/test_lrscheduler.py (sha256 checked)
#   hf/test_optimization.py         huggingface/transformers 74714520aed84bb44c9e6724ba805d2cd1e1eff7
#                                   tests/optimization/test_optimization.py (length checked)
#   mmengine/tests/test_optim/test_scheduler/test_{lr,momentum,param}_scheduler.py
#                                   open-mmlab/mmengine tag v0.10.7
#   accelerate/tests/               huggingface/accelerate 16cb6eb80dd9aa8b4df1a63ef57863e455d53b83
#                                   (its test_scheduler.py and test_state_checkpointing.py are
#                                   the same as at tag v1.14.0)
#   ignite/tests/                   pytorch/ignite tag v0.5.5
#   lightning/tests/                Lightning-AI/pytorch-lightning tag 2.6.5
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=$(python3 -c 'import os, sys; print(os.path.realpath(sys.argv[1]))' \
       "${1:-${PEERS:-$ROOT/../cadence-upstream}}")
case "$DEST/" in
  "$ROOT/"*) echo "fetch_upstream.sh: $DEST is inside the repository; choose a folder outside it" >&2
             exit 2 ;;
esac
mkdir -p "$DEST"

raw() {  # owner/repo, commit, path in the repository, file to write
  mkdir -p "$(dirname "$4")"
  echo "  $1@$2 $3"
  curl -fsSL "https://raw.githubusercontent.com/$1/$2/$3" -o "$4"
}

tests_of() {  # owner/repo, ref, folder: the repository's tests/ at ref, as folder/tests
  echo "  $1@$2 tests/"
  rm -rf "$3/tests"
  mkdir -p "$3"
  curl -fsSL "https://github.com/$1/archive/$2.tar.gz" |
    tar -xz -C "$3" --strip-components=1 --wildcards --no-wildcards-match-slash '*/tests'
  [ -d "$3/tests" ] || { echo "fetch_upstream.sh: no tests/ in $1@$2" >&2; exit 1; }
}

echo "into $DEST:"
raw pytorch/pytorch 01f9ef32eae5ef513002dd44902c23cbe6be3aae test/optim/test_lrscheduler.py \
  "$DEST/torch/test_lrscheduler.py"
echo "026594d137cba1d4a3f0cb09504db067d7aec9cb1dfa0978deda3b4660ac616d  $DEST/torch/test_lrscheduler.py" |
  sha256sum -c --quiet -

raw huggingface/transformers 74714520aed84bb44c9e6724ba805d2cd1e1eff7 \
  tests/optimization/test_optimization.py "$DEST/hf/test_optimization.py"
python3 - "$DEST/hf/test_optimization.py" <<'EOF'
import sys
n = len(open(sys.argv[1], encoding="utf-8").read())
if n != 6292:
    sys.exit(f"fetch_upstream.sh: {sys.argv[1]} has {n} characters, the one measured 6292")
EOF

for f in test_lr_scheduler.py test_momentum_scheduler.py test_param_scheduler.py; do
  raw open-mmlab/mmengine v0.10.7 "tests/test_optim/test_scheduler/$f" \
    "$DEST/mmengine/tests/test_optim/test_scheduler/$f"
done

tests_of huggingface/accelerate 16cb6eb80dd9aa8b4df1a63ef57863e455d53b83 "$DEST/accelerate"
tests_of pytorch/ignite v0.5.5 "$DEST/ignite"
tests_of Lightning-AI/pytorch-lightning 2.6.5 "$DEST/lightning"

echo "done: PEERS=$DEST bash $ROOT/peer_suites/run_all.sh"
