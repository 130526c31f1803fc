"""The policy file (load_policy_text, then evaluate) and ledger lines (read_records).

Random policy text fails to load with InputError or loads into a Policy whose evaluation
of a fixed bag is deterministic and never raises. A damaged ledger file reads as records,
each holding an entry or a stated problem, and no record holds an entry nobody wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from envsecops.errors import InputError
from envsecops.ledger.codec import encode
from envsecops.ledger.file_read import read_records
from envsecops.model.bag import Bag
from envsecops.policy.evaluate import evaluate
from envsecops.policy.load import load_policy_text
from tests.fuzz.budget import fuzz_settings, ran
from tests.fuzz.mutate import json_values, mutated_bytes, mutated_text

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "docs" / "examples" / "policy-tests"
BAG = Bag.from_json(json.loads((EXAMPLES / "recorded" / "bag.json").read_bytes()))
POLICY = (EXAMPLES / "envsecops.yml").read_text(encoding="utf-8")
MINIMAL = "name: fuzz\nbinaries:\n  /usr/bin/git: [sha256:" + "0" * 64 + "]\n"
ANCHORS = (
    """name: fuzz
packages:
  allow: &a [{purl: "pkg:pypi/*"}, {purl: "pkg:deb/*"}]
  deny: *a
binaries: &b {<<: {"/usr/bin/a": [sha256:"""
    + "1" * 64
    + """]}}
configs: {<<: *b, <<: *b}
"""
)
SEEDS = [POLICY, MINIMAL, ANCHORS, (ROOT / ".github" / "envsecops.yml").read_text("utf-8")]
SECTIONS = st.fixed_dictionaries(
    {"name": st.one_of(st.just("fuzz"), json_values(2))},
    optional={
        key: json_values(8)
        for key in (
            "version",
            "mode",
            "max-attestation-age",
            "runner",
            "binaries",
            "tool-cache",
            "packages",
            "configs",
            "env",
            "actions",
            "sbom",
            "pins",
            "ledger",
            "credentials",
        )
    },
)  # JSON is YAML: every section of the right name holding values of any shape
YAMLISH = st.text(
    alphabet=st.sampled_from(list("abnme:-[]{}&*<!'\"#|>\n  ,?%@`\t0.*/")), max_size=160
)


def _duplicate_a_line(text: str, index: int) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    at = index % len(lines)
    return "".join([*lines[: at + 1], lines[at], *lines[at + 1 :]])


@fuzz_settings(300)
@given(
    text=st.one_of(
        mutated_text(SEEDS),
        mutated_text(SEEDS),
        st.builds(_duplicate_a_line, st.sampled_from(SEEDS), st.integers(0, 200)),
        YAMLISH.map(lambda t: "name: fuzz\n" + t),
        st.text(max_size=200),
        SECTIONS.map(json.dumps),
    )
)
@example(text="")
@example(text="\ufeffname: fuzz\n")
@example(text="name: fuzz\nname: other\n")
@example(text="name: fuzz\nmax-attestation-age: " + "9" * 5000 + "\n")
@example(text="name: fuzz\nbinaries: " + "[" * 3000 + "]" * 3000 + "\n")
def test_policy_text(text: str) -> None:
    """InputError, or a Policy that evaluates the fixed bag the same way every time."""
    ran("policy")
    try:
        policy = load_policy_text(text, "fuzz.yml")
    except InputError as exc:
        refused: InputError | None = exc
    else:
        refused = None
    if refused is not None:
        assert refused.message, "a refusal must say why"
        return
    ran("policy (loaded)")
    assert load_policy_text(text, "fuzz.yml").policy_id == policy.policy_id
    first = evaluate(policy, BAG)
    assert evaluate(policy, BAG) == first
    if policy.empty_allowlist:
        assert first, "an empty allowlist must deny"


def _ledger_lines() -> list[bytes]:
    entries: list[tuple[str, dict[str, Any]]] = [
        ("mint-issued", {"role": "arn:aws:iam::1:role/x", "ttl": 900}),
        ("decision", {"allowed": False, "reasons": ["a\nb", "\u202e"]}),
        ("mint-issued", {"k": ["v", 1, None, True, {"n": -5}]}),
    ]
    lines: list[bytes] = []
    prev: str | None = None
    for seq, (kind, body) in enumerate(entries):
        stored = encode("fuzz", kind, body, "2026-01-01T00:00:00Z", seq, prev)
        prev = stored.digest
        lines.append(stored.data + b"\n")
    return lines


LINES = _ledger_lines()


@pytest.fixture(scope="module")
def ledger_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ledger file every example rewrites."""
    return tmp_path_factory.mktemp("ledger-fuzz") / "ledger.jsonl"


@fuzz_settings(250)
@given(
    content=st.one_of(
        st.lists(st.one_of(st.sampled_from(LINES), mutated_bytes(LINES)), max_size=6).map(b"".join),
        st.binary(max_size=300),
    )
)
@example(content=LINES[0][:-1])
@example(content=b"\n\n" + LINES[1] + b"[" * 100_000 + b"\n")
@example(content=LINES[0].replace(b"{", b'{"digest":"x",', 1))
def test_ledger_lines(ledger_file: Path, content: bytes) -> None:
    """Every line is an entry that was written, or a problem; nothing raises."""
    ran("ledger-line")
    ledger_file.write_bytes(content)
    written = {line[:-1] for line in LINES}
    for record in read_records(ledger_file):
        assert (record.entry is None) != (record.problem is None), record
        if record.entry is not None:
            ran("ledger-line (entry)")
            assert record.digest is not None
            assert any(json.loads(w)["digest"] == record.digest for w in written), record
