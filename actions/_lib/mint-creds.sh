#!/usr/bin/env bash
# Shared by action.yml and actions/mint-creds/action.yml: validate the inputs, build a
# hash-locked venv inside the action's own directory, run `envsecops mint` isolated.
#
# usage: bash mint-creds.sh ACTION_DIR
#
# Inputs arrive only through the environment (the action maps `inputs.*` to these in its
# step's `env:`, never into the script text), and every one is validated here, because the
# runner enforces neither `required:` nor any format:
#   ENVSECOPS_PROVIDER              aws | gcp | vault | empty (the policy's only provider)
#   ENVSECOPS_DECISION              the decision.json verify-bag wrote (required)
#   ENVSECOPS_DECISION_ATTESTATION  the signed decision (default: the .dsse.json or
#                                   .sigstore.json beside the decision)
#   ENVSECOPS_POLICY_FILE           the exact policy text the decision rests on (default: the
#                                   policy.yml beside the decision); its `credentials:` section
#                                   names the roles and its `ledger:` section the ledgers
#   ENVSECOPS_BAG                   the bag.json attest-runner wrote (optional): on drift,
#                                   drift.json then holds the component diff
#   ENVSECOPS_SIGNER                sigstore | key (default sigstore): how the decision was signed
#   ENVSECOPS_SIGNING_KEY           PEM private key for signer=key (from a secret): its public key
#                                   is trusted for the decision; read by envsecops itself from the
#                                   environment, never put on a command line
#   ENVSECOPS_PUBLIC_KEYS           trusted PEM public key files (signer=key), separated by spaces
#   ENVSECOPS_CONFIGS               extra config globs for the re-inventory (as given to attest)
#   ENVSECOPS_SYFT                  true | auto | false (default false; as given to attest)
#   ENVSECOPS_OUTPUT_CREDENTIALS    true | false (default false): also set the credentials as
#                                   step outputs (every later step can read outputs)
#   ENVSECOPS_DURATION              lifetime in seconds, 1 to 3600 (default: the provider's
#                                   minimum); it can only shorten the policy's max-lifetime
#   ENVSECOPS_MAX_DECISION_AGE      seconds, 1 to 3600 (default 300): an older decision is refused
#   ENVSECOPS_LEDGER                extra ledger specs, separated by spaces (added to the policy's)
#   ENVSECOPS_OIDC_ISSUER           the OIDC issuer tokens are validated against (default GitHub's;
#                                   GHES and enterprise issuers differ)
#   ENVSECOPS_OUT                   output directory (default $RUNNER_TEMP/envsecops-mint)
# Outputs (envsecops writes them to $GITHUB_OUTPUT itself): expires-at always; the credential
# outputs only with output-credentials true. The credentials themselves go to $GITHUB_ENV,
# masked first.
# Exit status: mint's own (0 issued, 1 refused by a precondition, 2 bad input, 3 ledger,
# token service or provider failure).
set -euo pipefail

ENVSECOPS_STAGE=mint-creds
# shellcheck source=common.sh
source -- "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 && -d $1 ]] || fail "internal: mint-creds.sh needs the action directory as its argument"
action_dir=$1

provider=${ENVSECOPS_PROVIDER:-}
decision=${ENVSECOPS_DECISION:-}
decision_attestation=${ENVSECOPS_DECISION_ATTESTATION:-}
policy_file=${ENVSECOPS_POLICY_FILE:-}
bag=${ENVSECOPS_BAG:-}
signer=${ENVSECOPS_SIGNER:-sigstore}
public_keys_input=${ENVSECOPS_PUBLIC_KEYS:-}
configs_input=${ENVSECOPS_CONFIGS:-}
syft=${ENVSECOPS_SYFT:-false}
output_credentials=${ENVSECOPS_OUTPUT_CREDENTIALS:-false}
duration=${ENVSECOPS_DURATION:-}
max_decision_age=${ENVSECOPS_MAX_DECISION_AGE:-}
ledger_input=${ENVSECOPS_LEDGER:-}
oidc_issuer=${ENVSECOPS_OIDC_ISSUER:-}
out=${ENVSECOPS_OUT:-}

single_line provider "$provider"
single_line decision "$decision"
single_line decision-attestation "$decision_attestation"
single_line policy-file "$policy_file"
single_line bag "$bag"
single_line signer "$signer"
single_line public-keys "$public_keys_input"
single_line configs "$configs_input"
single_line syft "$syft"
single_line output-credentials "$output_credentials"
single_line duration "$duration"
single_line max-decision-age "$max_decision_age"
single_line ledger "$ledger_input"
single_line oidc-issuer "$oidc_issuer"
single_line out "$out"
if [[ -z $decision ]]; then
  fail "input \`decision\` is empty: pass the decision verify-bag wrote, e.g. \`decision: \${{ steps.verify.outputs.decision }}\`; no credential was requested"
fi
case $provider in
  '' | aws | gcp | vault) ;;
  *) fail "input \`provider\` must be empty (the policy's only provider), aws, gcp or vault" ;;
esac
# Split on blanks without glob expansion (`read -a` never globs): envsecops expands them.
read -r -a public_keys <<<"$public_keys_input"
case $signer in
  sigstore)
    if [[ ${#public_keys[@]} -gt 0 ]]; then
      fail "input \`public-keys\` is for \`signer: key\`; a keyless (sigstore) decision is checked against this repository's workflow identity instead"
    fi
    ;;
  key)
    if [[ -z ${ENVSECOPS_SIGNING_KEY:-} && ${#public_keys[@]} -eq 0 ]]; then
      fail "input \`signer\` is key but neither \`signing-key\` nor \`public-keys\` is set: pass the key verify-bag signed the decision with, e.g. \`signing-key: \${{ secrets.ENVSECOPS_SIGNING_KEY }}\`"
    fi
    ;;
  *) fail "input \`signer\` must be one of sigstore, key (the way verify-bag signed the decision)" ;;
esac
case $syft in
  auto) syft_flag=() ;;
  true) syft_flag=(--syft) ;;
  false) syft_flag=(--no-syft) ;;
  *) fail "input \`syft\` must be one of auto, true, false (the same as attest-runner's)" ;;
esac
case $output_credentials in
  true) output_flag=(--output-credentials) ;;
  false) output_flag=() ;;
  *) fail "input \`output-credentials\` must be true or false (default false: the credentials go to \$GITHUB_ENV only)" ;;
esac
# 1..3600 without leading zeros: bash arithmetic would read 0900 as octal.
seconds='^[1-9][0-9]{0,3}$'
if [[ -n $duration ]] && ! [[ $duration =~ $seconds && $duration -le 3600 ]]; then
  fail "input \`duration\` must be a whole number of seconds from 1 to 3600 (empty: the provider's minimum, 900 s on AWS)"
fi
if [[ -n $max_decision_age ]] && ! [[ $max_decision_age =~ $seconds && $max_decision_age -le 3600 ]]; then
  fail "input \`max-decision-age\` must be a whole number of seconds from 1 to 3600 (empty: 300)"
fi
if [[ -n $oidc_issuer ]]; then
  loopback='^http://(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\])(:[0-9]+)?(/[^[:space:]]*)?$'
  if ! [[ $oidc_issuer =~ ^https://[^/[:space:]]+(/[^[:space:]]*)?$ || $oidc_issuer =~ $loopback ]]; then
    fail "input \`oidc-issuer\` must be an https:// URL (plain http:// only to a loopback address), e.g. https://token.actions.githubusercontent.com"
  fi
fi
read -r -a configs <<<"$configs_input"
read -r -a ledgers <<<"$ledger_input"
if [[ -z $out ]]; then
  out="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/envsecops-mint"
fi
if [[ $out != /* ]]; then
  out="$PWD/$out"
fi

bootstrap_venv "$action_dir"

mint=("$venv/bin/python" -I -m envsecops mint "--decision=$decision" "--signer=$signer")
mint+=("--out=$out")
# `${a[@]+"${a[@]}"}`: an empty array expands to nothing under `set -u` on bash 3.2 (macOS) too.
mint+=(${syft_flag[@]+"${syft_flag[@]}"} ${output_flag[@]+"${output_flag[@]}"})
if [[ -n $provider ]]; then
  mint+=("--provider=$provider")
fi
if [[ -n $decision_attestation ]]; then
  mint+=("--decision-attestation=$decision_attestation")
fi
if [[ -n $policy_file ]]; then
  mint+=("--policy=$policy_file")
fi
if [[ -n $bag ]]; then
  mint+=("--bag=$bag")
fi
if [[ -n $duration ]]; then
  mint+=("--duration=$duration")
fi
if [[ -n $max_decision_age ]]; then
  mint+=("--max-decision-age=$max_decision_age")
fi
if [[ -n $oidc_issuer ]]; then
  mint+=("--oidc-issuer=$oidc_issuer")
fi
for key in ${public_keys[@]+"${public_keys[@]}"}; do
  mint+=("--public-key=$key")
done
for glob in ${configs[@]+"${configs[@]}"}; do
  mint+=("--config=$glob")
done
for spec in ${ledgers[@]+"${ledgers[@]}"}; do
  mint+=("--ledger=$spec")
done
exec "${mint[@]}"
