"""Read the policy file once, strictly: one YAML document, positions kept, defects named."""

from __future__ import annotations

from pathlib import Path

from envsecops.errors import InputError
from envsecops.syntax.yaml import Node, ScalarNode, YamlProblem, compose_documents

INIT_FIX = (
    "draft one from an attested bag, review what it allows, and commit it: "
    "`envsecops policy init --from bag.json > .github/envsecops.yml`"
)

_YAML_FIXES = {
    "duplicate-key": "keep one of the two keys and merge what they list",
    "parse-error": "check the indentation and quoting at that position "
    "(a value starting with * & ! % @ or ` must be quoted)",
    "input-too-large": "write the policy out plainly: no deep nesting, few anchors and aliases",
}


def read_policy(file: Path, display: str) -> Node:
    """The policy file's single YAML document; any defect is an InputError with its line."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the policy file: {exc}", path=display) from exc
    return compose_policy(text, display)


def _blank(node: Node) -> bool:
    """A document with nothing in it (a lone `---`)."""
    return isinstance(node, ScalarNode) and node.value == "" and not node.style


def compose_policy(text: str, display: str) -> Node:
    """The single YAML document in ``text`` as a node tree (bounded, duplicate keys refused)."""
    try:
        roots = compose_documents(text)
    except YamlProblem as exc:
        raise InputError(
            exc.message,
            path=display,
            line=exc.line,
            column=exc.column,
            fix=_YAML_FIXES.get(exc.kind),
        ) from exc
    if not roots or (len(roots) == 1 and _blank(roots[0])):
        raise InputError("the policy file is empty", path=display, fix=INIT_FIX)
    if len(roots) != 1:
        raise InputError(
            "the policy file must hold exactly one YAML document (found "
            f"{len(roots)}, separated by ---)",
            path=display,
            line=roots[1].start_mark.line + 1,
            fix="keep one document: remove the `---` separator and merge the sections",
        )
    return roots[0]
