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
# Outputs (to $GITHUB_OUTPUT): findings (active findings of any severity), sarif-file.
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

bootstrap_venv "$action_dir"

pin_check=("$venv/bin/python" -I -m envsecops pin-check "--fail-on=$fail_on")
if [[ -n $policy ]]; then
  pin_check+=("--policy=$policy")
fi
rm -f -- "$sarif_file"
status=0
"${pin_check[@]}" "--format=$format" "--sarif-file=$sarif_file" -- "${paths[@]}" || status=$?

# Active findings: unsuppressed SARIF results. Past SARIF's 25,000-result cap some are left
# out of the file (its run properties say how many), so count from a JSON run instead.
count_findings() {
  "$venv/bin/python" -I -c '
import json, sys
with open(sys.argv[2], encoding="utf-8") as handle:
    report = json.load(handle)
if sys.argv[1] == "json":
    print(len(report["findings"]))
elif any(run.get("properties", {}).get("resultsOmitted", 0) for run in report["runs"]):
    print("omitted")
else:
    print(sum(
        1
        for run in report["runs"]
        for result in run.get("results", [])
        if not result.get("suppressions")
    ))
' "$@"
}

if [[ -f $sarif_file ]]; then
  findings=$(count_findings sarif "$sarif_file")
  if [[ $findings == omitted ]]; then
    json_file="$sarif_file.json"
    "${pin_check[@]}" --format=json "--output=$json_file" -- "${paths[@]}" || true
    findings=$(count_findings json "$json_file")
    rm -f -- "$json_file"
  fi
  set_output findings "$findings"
  set_output sarif-file "$sarif_file"
fi
exit "$status"
