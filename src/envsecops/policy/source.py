"""Read the policy file once, strictly: one YAML document, positions kept, defects named."""

from __future__ import annotations

from pathlib import Path

from envsecops.errors import InputError
from envsecops.syntax.yaml import Node, YamlProblem, compose_documents


def read_policy(file: Path, display: str) -> Node:
    """The policy file's single YAML document; any defect is an InputError with its line."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the policy file: {exc}", path=display) from exc
    try:
        roots = compose_documents(text)
    except YamlProblem as exc:
        raise InputError(exc.message, path=display, line=exc.line, column=exc.column) from exc
    if len(roots) != 1:
        raise InputError("the policy file must hold exactly one YAML document", path=display)
    return roots[0]
