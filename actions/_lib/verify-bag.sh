#!/usr/bin/env bash
# Shared by action.yml and actions/verify-bag/action.yml: validate the inputs, build a
# hash-locked venv inside the action's own directory, run `envsecops verify` isolated.
#
# usage: bash verify-bag.sh ACTION_DIR
#
# Inputs arrive only through the environment (the action maps `inputs.*` to these in its
# step's `env:`, never into the script text), and every one is validated here, because the
# runner enforces neither `required:` nor any format:
#   ENVSECOPS_ATTESTATION    the attestation attest-runner wrote (required)
#   ENVSECOPS_BAG            the bag.json attest-runner wrote (required)
#   ENVSECOPS_NONCE          the nonce attest-runner bound the attestation to (required)
#   ENVSECOPS_POLICY         policy path in the repository (default .github/envsecops.yml)
#   ENVSECOPS_POLICY_SOURCE  default-branch | workspace (default default-branch: a pull
#                            request cannot weaken its own gate; workspace is recorded as such)
#   ENVSECOPS_SIGNER         sigstore | key (default sigstore: keyless, needs `id-token: write`)
#   ENVSECOPS_SIGNING_KEY    PEM private key for signer=key (from a secret): signs the decision,
#                            and its public key is trusted for the attestation; read by
#                            envsecops itself from the environment, never put on a command line
#   ENVSECOPS_PUBLIC_KEYS    more trusted PEM public key files (signer=key), separated by spaces
#   ENVSECOPS_PIN_REPORT     pin-check JSON report; its active findings become deny reasons
#   ENVSECOPS_CONFIGS        extra config globs for the fresh inventory (as given to attest)
#   ENVSECOPS_SYFT           true | auto | false (default false; as given to attest)
#   ENVSECOPS_MODE           enforce | audit | empty (the policy's; may only make it stricter)
#   ENVSECOPS_OUT            output directory (default $RUNNER_TEMP/envsecops-decision)
#   ENVSECOPS_GITHUB_TOKEN   token for the default-branch policy fetch (`github.token`; the job
#                            needs `contents: read`); read by envsecops from the environment
# Outputs (envsecops writes them to $GITHUB_OUTPUT itself): verdict, decision, env-hash,
# policy-id, decision-attestation, drift, policy-file.
# Exit status: verify's own (0 allow or audit-mode deny, 1 deny with the decision written,
# 2 bad input with nothing written, 3 the decision could not be signed).
set -euo pipefail

ENVSECOPS_STAGE=verify-bag
# shellcheck source=common.sh
source -- "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 && -d $1 ]] || fail "internal: verify-bag.sh needs the action directory as its argument"
action_dir=$1

attestation=${ENVSECOPS_ATTESTATION:-}
bag=${ENVSECOPS_BAG:-}
nonce=${ENVSECOPS_NONCE:-}
policy=${ENVSECOPS_POLICY:-}
policy_source=${ENVSECOPS_POLICY_SOURCE:-default-branch}
signer=${ENVSECOPS_SIGNER:-sigstore}
public_keys_input=${ENVSECOPS_PUBLIC_KEYS:-}
pin_report=${ENVSECOPS_PIN_REPORT:-}
configs_input=${ENVSECOPS_CONFIGS:-}
syft=${ENVSECOPS_SYFT:-false}
mode=${ENVSECOPS_MODE:-}
out=${ENVSECOPS_OUT:-}

single_line attestation "$attestation"
single_line bag "$bag"
single_line nonce "$nonce"
single_line policy "$policy"
single_line policy-source "$policy_source"
single_line signer "$signer"
single_line public-keys "$public_keys_input"
single_line pin-report "$pin_report"
single_line configs "$configs_input"
single_line syft "$syft"
single_line mode "$mode"
single_line out "$out"
if [[ -z $attestation ]]; then
  fail "input \`attestation\` is empty: pass the file attest-runner wrote, e.g. \`attestation: \${{ steps.attest.outputs.attestation }}\`; nothing was verified"
fi
if [[ -z $bag ]]; then
  fail "input \`bag\` is empty: pass the bag.json attest-runner wrote, e.g. \`bag: \${{ steps.attest.outputs.bag }}\`; nothing was verified"
fi
if [[ -z $nonce ]]; then
  fail "input \`nonce\` is empty: pass the nonce attest-runner bound the attestation to, e.g. \`nonce: \${{ steps.attest.outputs.nonce }}\`; nothing was verified"
fi
if [[ ! $nonce =~ ^[A-Za-z0-9_-]{16,128}$ ]]; then
  fail "input \`nonce\` must be 16 to 128 characters of letters, digits, \`_\` and \`-\`"
fi
case $policy_source in
  default-branch | workspace) ;;
  *) fail "input \`policy-source\` must be one of default-branch, workspace" ;;
esac
# Split on blanks without glob expansion (`read -a` never globs): envsecops expands them.
read -r -a public_keys <<<"$public_keys_input"
case $signer in
  sigstore)
    if [[ ${#public_keys[@]} -gt 0 ]]; then
      fail "input \`public-keys\` is for \`signer: key\`; keyless (sigstore) verification trusts this repository's workflow identity instead"
    fi
    ;;
  key)
    if [[ -z ${ENVSECOPS_SIGNING_KEY:-} ]]; then
      fail "input \`signer\` is key but \`signing-key\` is empty: pass the PEM private key from a secret, e.g. \`signing-key: \${{ secrets.ENVSECOPS_SIGNING_KEY }}\` (it signs the decision)"
    fi
    ;;
  *) fail "input \`signer\` must be one of sigstore, key" ;;
esac
case $syft in
  auto) syft_flag=() ;;
  true) syft_flag=(--syft) ;;
  false) syft_flag=(--no-syft) ;;
  *) fail "input \`syft\` must be one of auto, true, false (the same as attest-runner's)" ;;
esac
case $mode in
  '' | enforce | audit) ;;
  *) fail "input \`mode\` must be empty (the policy's mode), enforce or audit" ;;
esac
read -r -a configs <<<"$configs_input"
if [[ -z $out ]]; then
  out="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/envsecops-decision"
fi
if [[ $out != /* ]]; then
  out="$PWD/$out"
fi

bootstrap_venv "$action_dir"

verify=("$venv/bin/python" -I -m envsecops verify "--attestation=$attestation" "--bag=$bag")
verify+=("--nonce=$nonce" "--policy-source=$policy_source" "--signer=$signer" "--out=$out")
# `${a[@]+"${a[@]}"}`: an empty array expands to nothing under `set -u` on bash 3.2 (macOS) too.
verify+=(${syft_flag[@]+"${syft_flag[@]}"})
if [[ -n $policy ]]; then
  verify+=("--policy=$policy")
fi
if [[ -n $pin_report ]]; then
  verify+=("--pin-report=$pin_report")
fi
if [[ -n $mode ]]; then
  verify+=("--mode=$mode")
fi
for key in ${public_keys[@]+"${public_keys[@]}"}; do
  verify+=("--public-key=$key")
done
for glob in ${configs[@]+"${configs[@]}"}; do
  verify+=("--config=$glob")
done
exec "${verify[@]}"
