#!/usr/bin/env bash
# Run the upstream test suites against cadence's drop-ins, and each once against the upstream
# library itself (the baseline). Prints each runner's summary line and its baseline line; the
# full logs and per-test JSON go to $OUT.
#
# Usage (from anywhere):  bash peer_suites/run_all.sh [name ...]
#   names: torch hf mmengine accelerate_sched accelerate_ckpt ignite lightningA lightningB
#          (default: all of them)
# Environment:
#   PEERS        the folder that holds the upstream test files (default: ../cadence-upstream
#                next to the repository; peer_suites/fetch_upstream.sh fills it), laid out as
#                  torch/test_lrscheduler.py                        pytorch/pytorch@01f9ef32
#                  hf/test_optimization.py                          huggingface/transformers@74714520
#                  mmengine/tests/test_optim/test_scheduler/*.py    open-mmlab/mmengine v0.10.7
#                  accelerate/tests/                                huggingface/accelerate@16cb6eb8
#                  ignite/tests/                                    pytorch/ignite v0.5.5
#                  lightning/tests/                                 Lightning-AI/pytorch-lightning 2.6.5
#   PY           the Python to test with: it needs cadence and the test packages listed in
#                peer_suites/README.md (default: $PEERS/venv/bin/python if there is one, else
#                the repository's .venv/bin/python)
#   OUT          where the logs go (default: $PEERS/out)
#   CADENCE_SRC  a src/ folder put first on the path (e.g. a `git archive` of one commit);
#                without it, the cadence that PY imports is tested
# Exit status: the largest of the runners' (0: no counted test failed, 1: some did, 2: a
# runner could not run).
set -u
SUITES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SUITES")
PEERS=${PEERS:-$ROOT/../cadence-upstream}
if [ ! -d "$PEERS" ]; then
  echo "run_all.sh: no folder $PEERS: set PEERS, or fill it with peer_suites/fetch_upstream.sh" >&2
  exit 2
fi
PEERS=$(cd "$PEERS" && pwd)
if [ -z "${PY:-}" ]; then
  PY=$ROOT/.venv/bin/python
  [ -x "$PEERS/venv/bin/python" ] && PY=$PEERS/venv/bin/python
fi
OUT=${OUT:-$PEERS/out}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
CP=()
[ -n "${CADENCE_SRC:-}" ] && CP=(--pythonpath "$CADENCE_SRC")
echo "cadence under test: $(PYTHONPATH=${CADENCE_SRC:-} "$PY" -c 'import cadence, os; print(os.path.dirname(cadence.__file__), cadence.__version__)' 2>/dev/null)"
cd "$OUT" || exit 2

ARGS=("$@")
selected() {
  [ ${#ARGS[@]} -eq 0 ] && return 0
  local a; for a in "${ARGS[@]}"; do [ "$a" = "$1" ] && return 0; done; return 1
}

status=0
run() {  # name, then the runner's command line
  local name=$1; shift
  selected "$name" || return 0
  local t0=$SECONDS
  "$@" > "$OUT/$name.stdout" 2>&1
  local rc=$?
  [ $rc -gt $status ] && status=$rc
  printf '[%s] (rc=%s, %ss)\n' "$name" "$rc" "$((SECONDS - t0))"
  sed -n '1,2p' "$OUT/$name.stdout" | sed 's/^/  /'
}

L=$PEERS/lightning/tests/tests_pytorch
R=(python3 "$SUITES/run_torch_redirect.py")

run torch python3 "$SUITES/run_torch_suite.py" --file "$PEERS/torch/test_lrscheduler.py" \
  --expect-sha256 026594d137cba1d4a3f0cb09504db067d7aec9cb1dfa0978deda3b4660ac616d \
  ${CP[@]+"${CP[@]}"} --python "$PY" --log "$OUT/torch.log" --json "$OUT/torch.json"

# transformers 5 removed its AdamW: the suite's AdamW is PyTorch's
run hf python3 "$SUITES/run_hf_suite.py" --file "$PEERS/hf/test_optimization.py" \
  --fallback AdamW=torch.optim:AdamW ${CP[@]+"${CP[@]}"} --python "$PY" --log "$OUT/hf.log" \
  --json "$OUT/hf.json"

M=$PEERS/mmengine/tests/test_optim/test_scheduler
run mmengine python3 "$SUITES/run_mmengine_suite.py" \
  --file "$M/test_lr_scheduler.py" --file "$M/test_momentum_scheduler.py" \
  --file "$M/test_param_scheduler.py" --alias _ParamScheduler=ParamScheduler ${CP[@]+"${CP[@]}"} \
  --python "$PY" --log "$OUT/mmengine.log" --json "$OUT/mmengine.json"

# third parties' tests of code that uses PyTorch's schedulers (only the test files redirected)
run accelerate_sched "${R[@]}" --title "accelerate test_scheduler" \
  --file "$PEERS/accelerate/tests/test_scheduler.py" \
  --pythonpath "$PEERS/accelerate" ${CP[@]+"${CP[@]}"} --python "$PY" --timeout 300 \
  --log "$OUT/accelerate_sched.log" --json "$OUT/accelerate_sched.json"
run accelerate_ckpt "${R[@]}" --title "accelerate test_state_checkpointing" \
  --file "$PEERS/accelerate/tests/test_state_checkpointing.py" \
  --pythonpath "$PEERS/accelerate" ${CP[@]+"${CP[@]}"} --python "$PY" --timeout 300 \
  --log "$OUT/accelerate_ckpt.log" --json "$OUT/accelerate_ckpt.json"

run ignite "${R[@]}" --title "ignite test_param_scheduler" \
  --file "$PEERS/ignite/tests/ignite/handlers/test_param_scheduler.py" \
  --pythonpath "$PEERS/ignite" ${CP[@]+"${CP[@]}"} --python "$PY" --timeout 300 \
  --log "$OUT/ignite.log" --json "$OUT/ignite.json" \
  -- -p tests.ignite.conftest -p tests.ignite.handlers.conftest

run lightningA "${R[@]}" --title "lightning group A" \
  --file "$L/trainer/optimization/test_optimizers.py" --file "$L/callbacks/test_lr_monitor.py" \
  --file "$L/core/test_lightning_optimizer.py" \
  --file "$L/trainer/optimization/test_manual_optimization.py" \
  --pythonpath "$PEERS/lightning/tests" ${CP[@]+"${CP[@]}"} --python "$PY" --timeout 300 \
  --log "$OUT/lightningA.log" --json "$OUT/lightningA.json" -- -p tests_pytorch.conftest

run lightningB "${R[@]}" --title "lightning group B" \
  --file "$L/test_cli.py" --file "$L/callbacks/test_stochastic_weight_avg.py" \
  --file "$L/tuner/test_lr_finder.py" --file "$L/checkpointing/test_trainer_checkpoint.py" \
  --file "$L/models/test_restore.py" \
  --pythonpath "$PEERS/lightning/tests" ${CP[@]+"${CP[@]}"} --python "$PY" --timeout 300 \
  --log "$OUT/lightningB.log" --json "$OUT/lightningB.json" -- -p tests_pytorch.conftest

echo "logs: $OUT/<name>.log (failing tests with messages), <name>.json (per test), <name>.stdout"
exit $status
