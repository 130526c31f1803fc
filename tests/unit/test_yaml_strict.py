"""The strict YAML loader: strings stay strings, duplicates and bombs are refused."""

from __future__ import annotations

import pytest

from envsecops.syntax.yaml import YamlLimits, YamlProblem, compose_documents, get, items, scalar


def test_on_key_and_yaml11_scalars_stay_strings() -> None:
    (root,) = compose_documents("on: push\nversion: 3.10\nflag: no\n")
    assert [name for name, _k, _v in items(root)] == ["on", "version", "flag"]
    assert scalar(get(root, "version")) == "3.10"
    assert scalar(get(root, "flag")) == "no"


def test_duplicate_key_reports_line_and_column() -> None:
    with pytest.raises(YamlProblem) as info:
        compose_documents("jobs:\n  a: 1\n  b: 2\n  a: 3\n")
    assert info.value.kind == "duplicate-key"
    assert (info.value.line, info.value.column) == (4, 3)
    assert "first defined on line 2" in info.value.message


def test_syntax_error_has_position() -> None:
    with pytest.raises(YamlProblem) as info:
        compose_documents("a: [1, 2\nb: 3\n")
    assert info.value.kind == "parse-error"
    assert info.value.line >= 2


def test_alias_bomb_is_bounded() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    with pytest.raises(YamlProblem) as info:
        compose_documents("\n".join(lines) + "\n")
    assert info.value.kind == "input-too-large"


def test_depth_and_size_caps() -> None:
    deep = "a: " + "[" * 100 + "]" * 100 + "\n"
    with pytest.raises(YamlProblem) as info:
        compose_documents(deep)
    assert info.value.kind == "input-too-large"
    with pytest.raises(YamlProblem):
        compose_documents("a: b\n" * 100, YamlLimits(max_bytes=10))


def test_merge_keys_are_followed_and_explicit_keys_win() -> None:
    (root,) = compose_documents("base: &b {image: x, tag: one}\nsvc:\n  <<: *b\n  tag: two\n")
    svc = get(root, "svc")
    assert scalar(get(svc, "image")) == "x"
    assert scalar(get(svc, "tag")) == "two"
