"""The GitHub OIDC subject parser: both repository forms, customised templates, cross-checks."""

from __future__ import annotations

import pytest

from envsecops.gh.jwks import TokenRejected
from envsecops.gh.subject import check_subject, parse_subject


@pytest.mark.parametrize(
    ("sub", "repository", "ids", "parts"),
    [
        (
            "repo:octo-org/octo-repo:environment:prod",
            "octo-org/octo-repo",
            (None, None),
            (("repo", "octo-org/octo-repo"), ("environment", "prod")),
        ),
        (
            "repo:octo-org/octo-repo:pull_request",
            "octo-org/octo-repo",
            (None, None),
            (("repo", "octo-org/octo-repo"), ("pull_request", "")),
        ),
        (
            "repo:octo-org@65/octo-repo@74:ref:refs/tags/v1.2.0",
            "octo-org/octo-repo",
            ("65", "74"),
            (("repo", "octo-org@65/octo-repo@74"), ("ref", "refs/tags/v1.2.0")),
        ),
        (
            "repo:o/r:environment:prod:job_workflow_ref:o/w/.github/workflows/g.yml@refs/heads/main",
            "o/r",
            (None, None),
            (
                ("repo", "o/r"),
                ("environment", "prod"),
                ("job_workflow_ref", "o/w/.github/workflows/g.yml@refs/heads/main"),
            ),
        ),
        (
            "repository_owner_id:65:workflow:CI: build:ref:refs/heads/main",
            None,
            (None, None),
            (("repository_owner_id", "65"), ("workflow", "CI: build"), ("ref", "refs/heads/main")),
        ),
    ],
)
def test_subjects_parse(
    sub: str,
    repository: str | None,
    ids: tuple[str | None, str | None],
    parts: tuple[tuple[str, str], ...],
) -> None:
    subject = parse_subject(sub)
    assert subject.repository == repository
    assert (subject.owner_id, subject.repo_id) == ids
    assert subject.immutable is (ids[0] is not None)
    assert subject.parts == parts
    assert subject.get(parts[-1][0]) == parts[-1][1]


@pytest.mark.parametrize(
    "sub",
    [
        "",
        "repo",
        "repo:",
        "who:o/r",
        "repo:o/r:ref:",
        "repo:o@1/r:ref:refs/heads/main",
        "repo:o/r@2:ref:refs/heads/main",
        "repo:o/r/x:ref:refs/heads/main",
        "repo:o/r:repo:o/s",
        "repo:o@x/r@y:ref:refs/heads/main",
    ],
)
def test_bad_subjects_are_rejected(sub: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        parse_subject(sub)
    assert caught.value.claim == "sub"


def test_names_compare_case_insensitively_and_ids_exactly() -> None:
    claims = {
        "sub": "repo:Octo-Org@65/Octo-Repo@74:ref:refs/heads/main",
        "repository": "octo-org/octo-repo",
        "repository_owner_id": "65",
        "repository_id": "74",
    }
    assert check_subject(claims).repository == "Octo-Org/Octo-Repo"
    with pytest.raises(TokenRejected, match="repo_id 74"):
        check_subject({**claims, "repository_id": "75"})
    with pytest.raises(TokenRejected, match="names Octo-Org/Octo-Repo"):
        check_subject({**claims, "repository": "octo-org/other"})
