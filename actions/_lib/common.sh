#!/usr/bin/env bash
# Sourced by every envsecops action script: workflow-command escaping, input validation,
# safe outputs, and the hash-locked venv inside the action's own checkout.
#
# The caller sets ENVSECOPS_STAGE (used in error titles) before sourcing, then calls
# `bootstrap_venv ACTION_DIR`, which sets `venv` and `root`.

# Escape a message for a workflow command (`%`, CR and LF), so no value can open a new one.
escape() {
  local text=$1
  text=${text//'%'/'%25'}
  text=${text//$'\r'/'%0D'}
  text=${text//$'\n'/'%0A'}
  printf '%s' "$text"
}

fail() {
  printf '::error title=envsecops %s::%s\n' "${ENVSECOPS_STAGE:-action}" "$(escape "$1")"
  exit 2
}

# One line of printable text: no newline (it would forge output lines) or other control.
single_line() {
  local name=$1 value=$2
  if [[ $value == *[[:cntrl:]]* ]]; then
    fail "input \`$name\` must be a single line without control characters"
  fi
}

set_output() {
  local name=$1 value=$2
  single_line "$name" "$value"
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    printf '%s=%s\n' "$name" "$value" >>"$GITHUB_OUTPUT"
  else
    printf '%s=%s\n' "$name" "$value"
  fi
}

# The venv ACTION_DIR runs from. Every stage of one checkout shares ROOT/.venv (the top-level
# action's directory is ROOT; a stage's is ROOT/actions/<stage>): a per-stage venv built by a
# later stage would appear in the downloaded action tree after attest-runner inventoried it,
# and verify-bag would see its own installation as drift. An action directory outside the
# checkout (the scripts' tests) keeps its own.
venv_dir() {
  local action_dir=$1 checkout
  checkout=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
  if [[ $(cd -- "$action_dir" 2>/dev/null && pwd -P) == "$checkout" ]] ||
    [[ $(cd -- "$action_dir/../.." 2>/dev/null && pwd -P) == "$checkout" ]]; then
    printf '%s/.venv' "$checkout"
  else
    printf '%s/.venv' "$action_dir"
  fi
}

# Build (or reuse) the venv for ACTION_DIR; sets `venv` and `root`.
bootstrap_venv() {
  local action_dir=$1 lock stamp
  local -a pip
  root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
  if [[ ${RUNNER_OS:-} == Windows ]]; then
    fail "envsecops actions run on Linux and macOS runners; this job runs on Windows"
  fi
  command -v python3 >/dev/null 2>&1 ||
    fail "python3 is not on PATH; add actions/setup-python (3.11 or newer) before this step"
  python3 -I -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' ||
    fail "envsecops needs Python 3.11 or newer, found $(python3 -I -V 2>&1); add actions/setup-python with python-version: \"3.11\" before this step"

  # The venv lives in the action's checkout (venv_dir) and is rebuilt whenever the lock file,
  # the project metadata or the interpreter changes. pip runs `--isolated` (no PIP_* variables
  # or user config, which an earlier step could have set) and `--require-hashes`.
  venv=$(venv_dir "$action_dir")
  lock="$root/requirements/runtime.lock"
  [[ -f $lock ]] || fail "internal: $lock is missing from the action's checkout"
  stamp=$(python3 -I -c '
import hashlib, sys
digest = hashlib.sha256(sys.version.encode())
for name in sys.argv[1:]:
    with open(name, "rb") as handle:
        digest.update(handle.read())
print(digest.hexdigest())
' "$lock" "$root/pyproject.toml")
  if [[ ! -x $venv/bin/python || "$(cat -- "$venv/.envsecops-stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "envsecops: installing from requirements/runtime.lock into $venv"
    python3 -I -m venv --clear -- "$venv"
    pip=("$venv/bin/python" -I -m pip --isolated --disable-pip-version-check --no-input --quiet)
    "${pip[@]}" install --require-hashes --no-deps -r "$lock"
    "${pip[@]}" install --no-deps --no-build-isolation -- "$root"
    printf '%s\n' "$stamp" >"$venv/.envsecops-stamp"
  fi
}
