#!/usr/bin/env bash
# Shared by action.yml and actions/attest-runner/action.yml: validate the inputs, build a
# hash-locked venv inside the action's own directory, run `envsecops attest` isolated.
#
# usage: bash attest-runner.sh ACTION_DIR
#
# Inputs arrive only through the environment (the action maps `inputs.*` to these in its
# step's `env:`, never into the script text), and every one is validated here, because the
# runner enforces neither `required:` nor any format:
#   ENVSECOPS_SIGNER       sigstore | key (default sigstore: keyless, needs `id-token: write`)
#   ENVSECOPS_SIGNING_KEY  PEM private key for signer=key (from a secret); read by envsecops
#                          itself from the environment, never put on a command line
#   ENVSECOPS_SYFT         true | auto | false (default false: syft would be found through
#                          PATH, which earlier steps can change; auto runs it when found)
#   ENVSECOPS_CONFIGS      extra config files or globs to inventory, separated by spaces
#   ENVSECOPS_OUT          output directory (default $RUNNER_TEMP/envsecops-attest)
#   ENVSECOPS_NONCE        binding nonce (default: a fresh random one)
# Outputs (envsecops writes them to $GITHUB_OUTPUT itself): env-hash, attestation, sbom, bag,
# nonce.
# Exit status: attest's own (0 attested, 2 bad input, 3 signer or infrastructure failure).
set -euo pipefail

ENVSECOPS_STAGE=attest-runner
# shellcheck source=common.sh
source -- "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 && -d $1 ]] || fail "internal: attest-runner.sh needs the action directory as its argument"
action_dir=$1

signer=${ENVSECOPS_SIGNER:-sigstore}
syft=${ENVSECOPS_SYFT:-false}
configs_input=${ENVSECOPS_CONFIGS:-}
out=${ENVSECOPS_OUT:-}
nonce=${ENVSECOPS_NONCE:-}

single_line signer "$signer"
single_line syft "$syft"
single_line configs "$configs_input"
single_line out "$out"
single_line nonce "$nonce"
case $signer in
  sigstore) ;;
  key)
    if [[ -z ${ENVSECOPS_SIGNING_KEY:-} ]]; then
      fail "input \`signer\` is key but \`signing-key\` is empty: pass the PEM private key from a secret, e.g. \`signing-key: \${{ secrets.ENVSECOPS_SIGNING_KEY }}\`"
    fi
    ;;
  *) fail "input \`signer\` must be one of sigstore, key" ;;
esac
case $syft in
  auto) syft_flag=() ;;
  true) syft_flag=(--syft) ;;
  false) syft_flag=(--no-syft) ;;
  *) fail "input \`syft\` must be one of auto, true, false" ;;
esac
if [[ -n $nonce && ! $nonce =~ ^[A-Za-z0-9_-]{16,128}$ ]]; then
  fail "input \`nonce\` must be 16 to 128 characters of letters, digits, \`_\` and \`-\`"
fi
# Split on blanks without glob expansion (`read -a` never globs): envsecops expands them.
read -r -a configs <<<"$configs_input"
if [[ -z $out ]]; then
  out="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/envsecops-attest"
fi
if [[ $out != /* ]]; then
  out="$PWD/$out"
fi

bootstrap_venv "$action_dir"

attest=("$venv/bin/python" -I -m envsecops attest "--signer=$signer" "--out=$out")
# `${a[@]+"${a[@]}"}`: an empty array expands to nothing under `set -u` on bash 3.2 (macOS) too.
attest+=(${syft_flag[@]+"${syft_flag[@]}"})
if [[ -n $nonce ]]; then
  attest+=("--nonce=$nonce")
fi
for glob in ${configs[@]+"${configs[@]}"}; do
  attest+=("--config=$glob")
done
exec "${attest[@]}"
