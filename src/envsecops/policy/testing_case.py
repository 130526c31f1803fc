"""Policy test cases: the strict YAML case-file format (one case per document), with positions.

A case names a bag (a bag.json path, or inline `components:` plus `runner:` facts), the
policy to judge it with, and the verdict and reasons expected::

    name: curl-is-not-allowed
    policy: ../envsecops.yml          # optional: default the policy under test (--policy)
    components:                       # or  bag: recorded/bag.json
      - {kind: binary, name: curl, path: /usr/bin/curl, digest: "sha256:..."}
    runner: {runner_environment: github-hosted}
    expect:
      verdict: deny
      reasons:
        - {code: binary.unlisted, subject: binary /usr/bin/curl}
      exact: true                     # the listed reasons are all of them (default false)

Parsing does no I/O beyond the case file itself; paths are resolved against its folder.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from envsecops.errors import InputError
from envsecops.model.bag import RUNNER_FACTS, Bag, Component, ModelError, RunnerFacts
from envsecops.model.decision import Verdict
from envsecops.policy.reasons import CODES
from envsecops.syntax.yaml import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    YamlProblem,
    compose_documents,
    items,
    position,
)

CASE_KEYS = frozenset({"name", "policy", "bag", "components", "runner", "expect"})
EXPECT_KEYS = frozenset({"verdict", "reasons", "exact"})
REASON_KEYS = frozenset({"code", "subject"})
COMPONENT_KEYS = frozenset(
    {"kind", "name", "source", "version", "path", "digest", "purl", "status", "properties"}
    | {"volatile"}
)
INLINE_SOURCE = "policy-test"
"""The `source` of an inline component that does not name one."""
CASE_FIX = "see the case format in docs/policy-rollout.md (examples: docs/examples/policy-tests/)"


@dataclass(frozen=True, slots=True)
class ExpectedReason:
    """One reason a case expects: a code and, optionally, the exact subject."""

    code: str
    subject: str | None = None

    def label(self) -> str:
        """`code` or `code subject`, as shown in reports."""
        return self.code if self.subject is None else f"{self.code} {self.subject}"


@dataclass(frozen=True, slots=True)
class Expectation:
    """`expect:` — the verdict, the reasons, and whether those reasons are all of them."""

    verdict: Verdict
    reasons: tuple[ExpectedReason, ...] = ()
    exact: bool = False


@dataclass(frozen=True, slots=True)
class PolicyCase:
    """One parsed case; exactly one of ``bag_file`` and ``bag`` is set."""

    name: str
    location: str  # `path:line` of the document
    policy: Path | None  # resolved against the case file; None: the policy under test
    bag_file: Path | None
    bag: Bag | None
    expect: Expectation


@dataclass(frozen=True, slots=True)
class CaseError:
    """A document (or a whole file) that is not a usable case; ``name`` when it was readable."""

    location: str
    error: InputError
    name: str | None = None


class _Problem(Exception):
    """A defect at a node; turned into an InputError with the file's display name."""

    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def parse_case_file(text: str, file: Path, display: str) -> Iterator[PolicyCase | CaseError]:
    """Every document of one case file, as a case or as the error that makes it unusable."""
    try:
        documents = compose_documents(text)
    except YamlProblem as exc:
        error = InputError(exc.message, path=display, line=exc.line, column=exc.column)
        yield CaseError(f"{display}:{exc.line}", error)
        return
    if not documents:
        error = InputError("the case file holds no case", path=display, fix=CASE_FIX)
        yield CaseError(display, error)
        return
    for document in documents:
        line = position(document)[0]
        location = f"{display}:{line}"
        name = _name_of(document)
        try:
            yield _case(document, file, location, name)
        except _Problem as problem:
            at_line, column = position(problem.node)
            error = InputError(
                problem.message, path=display, line=at_line, column=column, fix=CASE_FIX
            )
            yield CaseError(location, error, name)


def _name_of(document: Node) -> str | None:
    for key, _key_node, value in items(document):
        if key == "name" and isinstance(value, ScalarNode) and value.value.strip():
            return str(value.value).strip()
    return None


def _mapping(node: Node, allowed: frozenset[str], where: str) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        raise _Problem(node, f"{where} must be a mapping")
    found: dict[str, Node] = {}
    for name, key, value in items(node):
        if name not in allowed:
            raise _Problem(
                key, f"unknown key {name!r} in {where} (allowed: {', '.join(sorted(allowed))})"
            )
        found[name] = value
    return found


def _text(node: Node, where: str, *, strip: bool = True) -> str:
    if not isinstance(node, ScalarNode) or not str(node.value).strip():
        raise _Problem(node, f"`{where}` must be a non-empty string")
    return str(node.value).strip() if strip else str(node.value)


def _scalar(node: Node, where: str) -> str:
    if not isinstance(node, ScalarNode):
        raise _Problem(node, f"`{where}` must be a string")
    return str(node.value)


def _boolean(node: Node, where: str) -> bool:
    value = str(node.value) if isinstance(node, ScalarNode) and not node.style else None
    if value not in {"true", "false"}:
        raise _Problem(node, f"`{where}` must be true or false (unquoted); write true or false")
    return value == "true"


def _case(document: Node, file: Path, location: str, name: str | None) -> PolicyCase:
    fields = _mapping(document, CASE_KEYS, "a policy test case")
    if name is None:
        raise _Problem(fields.get("name", document), "a case needs a non-empty `name`")
    if "expect" not in fields:
        raise _Problem(document, f"case {name!r} needs `expect:` (verdict and reasons)")
    has_bag, has_components = "bag" in fields, "components" in fields
    if has_bag == has_components:
        raise _Problem(
            document,
            f"case {name!r} needs exactly one of `bag:` (a bag.json path) and `components:`",
        )
    if has_bag and "runner" in fields:
        raise _Problem(
            fields["runner"],
            "`runner:` goes with inline `components:`; a bag.json carries its own runner facts",
        )
    policy = Path(_text(fields["policy"], "policy")) if "policy" in fields else None
    bag_file = Path(_text(fields["bag"], "bag")) if has_bag else None
    bag = None
    if has_components:
        runner = _runner(fields["runner"]) if "runner" in fields else RunnerFacts()
        bag = Bag.build(runner, _components(fields["components"]))
    return PolicyCase(
        name=name,
        location=location,
        policy=file.parent / policy if policy is not None else None,
        bag_file=file.parent / bag_file if bag_file is not None else None,
        bag=bag,
        expect=_expect(fields["expect"], name),
    )


def _runner(node: Node) -> RunnerFacts:
    allowed = frozenset(RUNNER_FACTS)
    facts = {
        name: _text(value, f"runner.{name}")
        for name, value in _mapping(node, allowed, "`runner:` (runner facts)").items()
    }
    return RunnerFacts(facts=tuple(sorted(facts.items())))


def _components(node: Node) -> list[Component]:
    if not isinstance(node, SequenceNode):
        raise _Problem(node, "`components:` must be a list of components (bag.json form)")
    return [_component(child) for child in node.value]


def _component(node: Node) -> Component:
    fields = _mapping(node, COMPONENT_KEYS, "a component")
    data: dict[str, object] = {"source": INLINE_SOURCE}
    for name, value in fields.items():
        if name == "volatile":
            data[name] = _boolean(value, "volatile")
        elif name == "properties":
            if not isinstance(value, MappingNode):
                raise _Problem(value, "`properties` must map names to strings")
            data[name] = {k: _scalar(v, f"properties.{k}") for k, _key, v in items(value)}
        else:
            data[name] = _text(value, name, strip=False)
    try:
        return Component.from_json(data)
    except ModelError as exc:
        raise _Problem(node, f"not a bag.json component: {exc}") from exc


def _expect(node: Node, name: str) -> Expectation:
    fields = _mapping(node, EXPECT_KEYS, "`expect:`")
    if "verdict" not in fields:
        raise _Problem(node, "`expect:` needs `verdict: allow` or `verdict: deny`")
    verdict_text = _text(fields["verdict"], "expect.verdict")
    if verdict_text not in {"allow", "deny"}:
        raise _Problem(fields["verdict"], f"`verdict` must be allow or deny, not {verdict_text!r}")
    verdict = Verdict(verdict_text)
    exact = _boolean(fields["exact"], "expect.exact") if "exact" in fields else False
    reasons_node = fields.get("reasons")
    reasons: list[ExpectedReason] = []
    if reasons_node is not None:
        if not isinstance(reasons_node, SequenceNode):
            raise _Problem(reasons_node, "`expect.reasons` must be a list of {code, subject}")
        reasons = [_reason(child) for child in reasons_node.value]
    if verdict is Verdict.ALLOW and reasons:
        raise _Problem(
            reasons_node or node,
            f"case {name!r} expects allow and lists reasons: an allowed bag has none",
        )
    if verdict is Verdict.DENY and exact and not reasons:
        raise _Problem(
            node,
            f"case {name!r} expects deny with `exact: true` and no reasons: a deny always has "
            "one; list the reasons expected",
        )
    return Expectation(verdict, tuple(reasons), exact)


def _reason(node: Node) -> ExpectedReason:
    fields = _mapping(node, REASON_KEYS, "an expected reason")
    if "code" not in fields:
        raise _Problem(node, "an expected reason needs `code`")
    code = _text(fields["code"], "code")
    if code not in CODES:
        near = difflib.get_close_matches(code, CODES, n=3)
        hint = f" (did you mean {', '.join(near)}?)" if near else " (see docs/verify.md)"
        raise _Problem(fields["code"], f"unknown reason code {code!r}{hint}")
    subject = _text(fields["subject"], "subject") if "subject" in fields else None
    return ExpectedReason(code, subject)
