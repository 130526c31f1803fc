"""`download-then-run`: a file downloaded in a `run:` script and executed without a checksum check.

This is `curl-pipe-shell` in two steps: `curl -o install.sh URL` (or `-O`, `> file`,
`wget [-O file] URL`, `Invoke-WebRequest -OutFile file`) and later, in the same file,
`bash install.sh`, `./install.sh`, `source install.sh`, `python3 get-pip.py` or
`pwsh -File x.ps1`. When any checksum or signature tool runs in between (`sha256sum`,
`shasum`, `gpg`, `cosign`, `minisign`, `slsa-verifier`, `gh attestation`, `Get-FileHash`,
`certutil`), the download counts as verified. Archives unpacked before running
(`tar xzf x.tgz && ./x/tool`) are not followed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from urllib.parse import urlsplit

from envsecops.model import Confidence, Severity
from envsecops.pins.rules.base import Emitter, Rule
from envsecops.pins.rules.curl_pipe_shell import (
    DOWNLOADERS,
    FIX,
    interpreter_kind,
    program_source,
)
from envsecops.pins.rules.scripts import ScriptCheck, expand_short, option_set, parse_options
from envsecops.pins.shell import Command
from envsecops.pins.shell_locate import LocatedCommand

DOWNLOAD_THEN_RUN = Rule(
    id="download-then-run",
    title="Downloaded file executed without verification",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    help="Saving a script before running it changes nothing when nothing checks it: whatever "
    "the server returned runs with the job's token and secrets in reach. Verify the file "
    "against a checksum committed to the repository (or a signature) before running it.",
)

VERIFIERS = frozenset(
    {"sha256sum", "sha512sum", "sha384sum", "sha224sum", "shasum", "sha1sum", "md5sum"}
    | {"b2sum", "cksum", "gpg", "gpgv", "gpg2", "cosign", "minisign", "signify", "openssl"}
    | {"slsa-verifier", "get-filehash", "certutil", "sigstore", "rekor-cli"}
)
_CURL_VALUE = option_set(
    "-o --output -H --header -d --data -u --user -A --user-agent -e --referer -x --proxy "
    "-X --request -w --write-out --retry --retry-delay --retry-max-time -m --max-time "
    "--connect-timeout -b --cookie -c --cookie-jar -F --form --url --cacert --cert --key "
    "-r --range -T --upload-file -z --time-cond --output-dir --create-dirs-mode -K --config"
)
_WGET_VALUE = option_set(
    "-O --output-document -P --directory-prefix -o --output-file -a --append-output -t "
    "--tries -T --timeout -U --user-agent --header --user --password -e --execute -i "
    "--input-file -w --wait --post-data --post-file --body-data --method"
)
_CURL_LETTERS = "oHduAexXwmbcFrTzK"
_WGET_LETTERS = "OPoatTUeiw"
_PWSH_OUT = frozenset({"-outfile", "-o", "-out", "-outf"})


def _normal(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/")) if path else path


def _remote_name(url: str | None) -> str | None:
    if not url:
        return None
    name = posixpath.basename(urlsplit(url).path)
    return name or None


def downloaded_files(command: Command) -> list[str]:
    """Files a curl/wget/Invoke-WebRequest command writes (normalised paths)."""
    tool = command.tool.lower()
    if tool not in DOWNLOADERS:
        return []
    files = [target for op, target in command.redirects if op in (">", ">>", ">|")]
    args = command.args
    if tool == "curl":
        expanded = expand_short(args, _CURL_LETTERS)
        options = parse_options(expanded, _CURL_VALUE.__contains__)
        url = next((p for p in options.positionals if "://" in p), None)
        files += options.values("-o", "--output")
        if options.has("-O", "--remote-name"):
            remote = _remote_name(url)
            files += [remote] if remote else []
    elif tool in ("wget", "wget2"):
        options = parse_options(expand_short(args, _WGET_LETTERS), _WGET_VALUE.__contains__)
        url = next((p for p in options.positionals if "://" in p), None)
        outputs = options.values("-O", "--output-document")
        if outputs:
            files += [o for o in outputs if o != "-"]
        elif not files:
            remote = _remote_name(url)
            prefix = (options.values("-P", "--directory-prefix") or [""])[0]
            files += [posixpath.join(prefix, remote)] if remote else []
    else:
        lowered = [a.lower() for a in args]
        for index, arg in enumerate(lowered[:-1]):
            if arg in _PWSH_OUT:
                files.append(args[index + 1])
    return [_normal(f) for f in files if f and f != "-" and not f.startswith("/dev/")]


def executed_file(command: Command) -> str | None:
    """The file a command runs as a program, if any (normalised)."""
    if not command.argv:
        return None
    head = command.argv[0]
    if head.startswith(("./", "../", "/", "~/")) or head.lower().endswith((".sh", ".ps1")):
        return _normal(head)
    kind = interpreter_kind(command.tool)
    if kind in ("source", ".") and command.args:
        return _normal(command.args[0])
    if kind is None or kind in ("eval", "iex", "invoke-expression"):
        return None
    where, path = program_source(kind, command.args)
    return _normal(path) if where == "file" and path else None


class DownloadThenRun(ScriptCheck):
    """Report files that are downloaded and later executed with no verification between."""

    rules = (DOWNLOAD_THEN_RUN,)

    def check_commands(self, commands: Sequence[LocatedCommand], emitter: Emitter) -> None:
        """One finding per execution of an unverified download."""
        downloads: dict[str, LocatedCommand] = {}
        for located in commands:
            command = located.command
            if command.tool.lower() in VERIFIERS or command.argv[:2] == ("gh", "attestation"):
                downloads.clear()  # whatever was fetched so far was checked (or meant to be)
                continue
            for path in downloaded_files(command):
                downloads[path] = located
            target = executed_file(command)
            if target is None or target not in downloads:
                continue
            fetch = downloads[target]
            self.report(
                emitter,
                DOWNLOAD_THEN_RUN,
                located,
                f"`{target}` is downloaded by `{_short(fetch.command.text)}` (line "
                f"{fetch.at.line}) and executed with no checksum or signature check in between",
                FIX,
            )


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:99] + "…"
