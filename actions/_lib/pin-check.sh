#!/usr/bin/env bash
# Shared by action.yml and actions/pin-check/action.yml: validate the inputs, build a
# hash-locked venv inside the action's own directory, run pin-check isolated, set outputs.
#
# usage: bash pin-check.sh ACTION_DIR
#
# Inputs arrive only through the environment (the action maps `inputs.*` to these in its
# step's `env:`, never into the script text), and every one is validated here, because the
# runner enforces neither `required:` nor any format:
#   ENVSECOPS_PATHS       paths to check, separated by spaces (default ".")
#   ENVSECOPS_FORMAT      text | json | sarif | github (default github)
#   ENVSECOPS_FAIL_ON     info | low | medium | high (default low)
#   ENVSECOPS_SARIF_FILE  where the SARIF report goes (default $RUNNER_TEMP/envsecops-pin-check.sarif)
#   ENVSECOPS_POLICY      policy file (default: .github/envsecops.yml when present)
# Outputs (to $GITHUB_OUTPUT): findings (active findings of any severity), sarif-file, and
# json-file: the same run as a JSON report (`--format json`, beside the SARIF file with a
# .json suffix), which verify-bag reads to turn active findings into deny reasons.
# Exit status: pin-check's own (0 clean, 1 findings, 2 bad input, 3 infrastructure).
set -euo pipefail

ENVSECOPS_STAGE=pin-check
# shellcheck source=common.sh
source -- "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 && -d $1 ]] || fail "internal: pin-check.sh needs the action directory as its argument"
action_dir=$1

paths_input=${ENVSECOPS_PATHS:-.}
format=${ENVSECOPS_FORMAT:-github}
fail_on=${ENVSECOPS_FAIL_ON:-low}
sarif_file=${ENVSECOPS_SARIF_FILE:-}
policy=${ENVSECOPS_POLICY:-}

single_line paths "$paths_input"
single_line format "$format"
single_line fail-on "$fail_on"
single_line sarif-file "$sarif_file"
single_line policy "$policy"
case $format in
  text | json | sarif | github) ;;
  *) fail "input \`format\` must be one of text, json, sarif, github" ;;
esac
case $fail_on in
  info | low | medium | high) ;;
  *) fail "input \`fail-on\` must be one of info, low, medium, high" ;;
esac
# Split on blanks without glob expansion (`read -a` never globs).
read -r -a paths <<<"$paths_input"
if [[ ${#paths[@]} -eq 0 ]]; then
  fail "input \`paths\` is empty: give at least one file or directory, e.g. \`.\`"
fi
if [[ -z $sarif_file ]]; then
  sarif_file="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/envsecops-pin-check.sarif"
fi
if [[ $sarif_file != /* ]]; then
  sarif_file="$PWD/$sarif_file"
fi
# The JSON report goes beside the SARIF file: report.sarif -> report.json.
if [[ $sarif_file == *.sarif ]]; then
  json_file="${sarif_file%.sarif}.json"
else
  json_file="$sarif_file.json"
fi

bootstrap_venv "$action_dir"

pin_check=("$venv/bin/python" -I -m envsecops pin-check "--fail-on=$fail_on")
if [[ -n $policy ]]; then
  pin_check+=("--policy=$policy")
fi
rm -f -- "$sarif_file" "$json_file"
status=0
"${pin_check[@]}" "--format=$format" "--sarif-file=$sarif_file" -- "${paths[@]}" || status=$?

# The JSON report comes from a second run over the same files (nothing runs in between):
# SARIF stops at 25,000 results, and verify-bag needs every active finding.
if [[ -f $sarif_file ]]; then
  json_status=0
  "${pin_check[@]}" --format=json "--output=$json_file" -- "${paths[@]}" >/dev/null || json_status=$?
  if [[ $json_status -gt 1 || ! -f $json_file ]]; then
    fail "pin-check ran but its JSON report $json_file could not be written (exit $json_status); see the messages above"
  fi
  # Active findings: the JSON report's `findings` (suppressed ones are listed apart).
  findings=$("$venv/bin/python" -I -c '
import json, sys
with open(sys.argv[1], encoding="utf-8") as handle:
    print(len(json.load(handle)["findings"]))
' "$json_file")
  set_output findings "$findings"
  set_output sarif-file "$sarif_file"
  set_output json-file "$json_file"
fi
exit "$status"
