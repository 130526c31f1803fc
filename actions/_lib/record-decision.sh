#!/usr/bin/env bash
# Shared by action.yml and actions/record-decision/action.yml: validate the inputs, build a
# hash-locked venv inside the action's own directory, run `envsecops record` isolated.
#
# usage: bash record-decision.sh ACTION_DIR
#
# Inputs arrive only through the environment (the action maps `inputs.*` to these in its
# step's `env:`, never into the script text), and every one is validated here, because the
# runner enforces neither `required:` nor any format:
#   ENVSECOPS_DECISION    decision JSON path (required)
#   ENVSECOPS_KIND        decision | mint-intent | mint-issued | mint-failed | drift
#   ENVSECOPS_CREDENTIAL  credential JSON path (mint-issued only)
#   ENVSECOPS_DRIFT       bag diff JSON path
#   ENVSECOPS_PIN_REPORT  pin-check JSON report path
#   ENVSECOPS_ERROR       what failed, one line (mint-failed only)
#   ENVSECOPS_LEDGER      extra ledger specs, separated by spaces
#   ENVSECOPS_POLICY      policy file (default: .github/envsecops.yml when present)
# Outputs (envsecops writes them to $GITHUB_OUTPUT itself): ledger-receipts, digest.
# Exit status: record's own (0 recorded, 1 recorded deny in enforce mode, 2 bad input,
# 3 a ledger did not record it).
set -euo pipefail

ENVSECOPS_STAGE=record-decision
# shellcheck source=common.sh
source -- "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 && -d $1 ]] || fail "internal: record-decision.sh needs the action directory as its argument"
action_dir=$1

decision=${ENVSECOPS_DECISION:-}
kind=${ENVSECOPS_KIND:-decision}
credential=${ENVSECOPS_CREDENTIAL:-}
drift=${ENVSECOPS_DRIFT:-}
pin_report=${ENVSECOPS_PIN_REPORT:-}
error=${ENVSECOPS_ERROR:-}
ledger_input=${ENVSECOPS_LEDGER:-}
policy=${ENVSECOPS_POLICY:-}

single_line decision "$decision"
single_line kind "$kind"
single_line credential "$credential"
single_line drift "$drift"
single_line pin-report "$pin_report"
single_line error "$error"
single_line ledger "$ledger_input"
single_line policy "$policy"
if [[ -z $decision ]]; then
  fail "input \`decision\` is empty: pass the decision JSON that verify-bag wrote, e.g. \`decision: \${{ steps.verify.outputs.decision }}\`; nothing was recorded"
fi
case $kind in
  decision | mint-intent | mint-issued | mint-failed | drift) ;;
  *) fail "input \`kind\` must be one of decision, mint-intent, mint-issued, mint-failed, drift" ;;
esac
# Split on blanks without glob expansion (`read -a` never globs).
read -r -a ledgers <<<"$ledger_input"

bootstrap_venv "$action_dir"

record=("$venv/bin/python" -I -m envsecops record "--decision=$decision" "--kind=$kind")
if [[ -n $credential ]]; then
  record+=("--credential=$credential")
fi
if [[ -n $drift ]]; then
  record+=("--drift=$drift")
fi
if [[ -n $pin_report ]]; then
  record+=("--pin-report=$pin_report")
fi
if [[ -n $error ]]; then
  record+=("--error=$error")
fi
if [[ -n $policy ]]; then
  record+=("--policy=$policy")
fi
for spec in ${ledgers[@]+"${ledgers[@]}"}; do
  record+=("--ledger=$spec")
done
exec "${record[@]}"
