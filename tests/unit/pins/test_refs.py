"""Reference classification: `uses:` shapes as the Actions runner reads them, and images."""

from __future__ import annotations

import time

import pytest

from envsecops.pins.refs import (
    ImageClass,
    RefKind,
    UsesClass,
    UsesParts,
    classify_image,
    classify_uses,
    describe_ref,
    image_tag,
    ref_kind,
    split_uses,
)

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
DIGEST = "beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"actions/checkout@{SHA}", UsesClass.SHA_PINNED),
        (f"github/codeql-action/init@{SHA}", UsesClass.SHA_PINNED),
        (f"org/repo/.github/workflows/x.yml@{SHA}", UsesClass.SHA_PINNED),
        (f"  actions/checkout@{SHA}  ", UsesClass.SHA_PINNED),
        # The runner splits the path on `/` and `\` and drops empty segments.
        (f"actions\\checkout@{SHA}", UsesClass.SHA_PINNED),
        (f"actions//checkout@{SHA}", UsesClass.SHA_PINNED),
        ("actions/checkout@v4", UsesClass.UNPINNED_REF),
        ("actions/checkout@main", UsesClass.UNPINNED_REF),
        ("actions/checkout@11bd719", UsesClass.UNPINNED_REF),
        # 40 hex digits that are not lowercase are not how git names a commit.
        (f"actions/checkout@{SHA.upper()}", UsesClass.UNPINNED_REF),
        ("actions/checkout", UsesClass.NO_REF),
        (".", UsesClass.NO_REF),
        ("../other", UsesClass.NO_REF),
        ("./", UsesClass.LOCAL),
        ("./.github/actions/setup", UsesClass.LOCAL),
        (".\\windows", UsesClass.LOCAL),
        # GitHub's self-repository form: this repository at this workflow's own commit.
        ("$/.github/actions/setup", UsesClass.LOCAL),
        ("docker://alpine:3.20", UsesClass.DOCKER_NODIGEST),
        (f"docker://alpine@sha256:{DIGEST}", UsesClass.DOCKER_DIGEST),
        (f"docker://alpine@sha256:{DIGEST.upper()}", UsesClass.DOCKER_NODIGEST),
        (f"docker://alpine@sha256:{DIGEST}\n", UsesClass.DOCKER_DIGEST),
        # The runner matches the scheme case-sensitively: this is not an image.
        ("DOCKER://alpine", UsesClass.NO_REF),
        ("${{ matrix.action }}", UsesClass.EXPRESSION),
        ("actions/checkout@${{ inputs.ref }}", UsesClass.EXPRESSION),
        ("", UsesClass.MALFORMED),
        ("   ", UsesClass.MALFORMED),
        ("checkout@v4", UsesClass.MALFORMED),
        (f"/checkout@{SHA}", UsesClass.MALFORMED),
        ("actions/checkout@", UsesClass.MALFORMED),
        ("@v4", UsesClass.MALFORMED),
        # Two `@`: the runner refuses it; the last one must not make it look pinned.
        (f"actions/checkout@v4@{SHA}", UsesClass.MALFORMED),
        (f"actions/checkout@ {SHA}", UsesClass.MALFORMED),
        (f"actions/checkout@{SHA}\tx", UsesClass.MALFORMED),
    ],
)
def test_classify_uses(value: str, expected: UsesClass) -> None:
    assert classify_uses(value) is expected


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ("v4", RefKind.TAG),
        ("v4.2.1", RefKind.TAG),
        ("1.2.3-rc.1", RefKind.TAG),
        ("refs/tags/stable", RefKind.TAG),
        ("main", RefKind.BRANCH),
        ("master", RefKind.BRANCH),
        ("refs/heads/feature", RefKind.BRANCH),
        ("release/v1", RefKind.BRANCH_OR_TAG),
        ("latest", RefKind.BRANCH_OR_TAG),
        ("11bd719", RefKind.SHORT_SHA),
        (SHA[:39], RefKind.SHORT_SHA),
        (SHA.upper(), RefKind.UPPERCASE_SHA),
        ("1" + ".1" * 300, RefKind.BRANCH_OR_TAG),
    ],
)
def test_ref_kind(ref: str, kind: RefKind) -> None:
    assert ref_kind(ref) is kind


def test_describe_ref_says_why_each_ref_is_mutable() -> None:
    assert "can be moved" in describe_ref("v4")
    assert "moves with every push" in describe_ref("main")
    assert "branch or tag of the same name" in describe_ref("11bd719")
    assert "not all lowercase" in describe_ref(SHA.upper())
    long = describe_ref("x" * 1000)
    assert len(long) < 300
    assert "…" in long


def test_split_uses() -> None:
    assert split_uses("a/b@v1") == UsesParts("a/b", "v1")
    assert split_uses("a/b") == UsesParts("a/b", None)
    assert split_uses("a/b@") == UsesParts("a/b", "")


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("alpine", None),
        ("alpine:3.20", "3.20"),
        ("localhost:5000/alpine", None),
        ("localhost:5000/alpine:1", "1"),
        (f"alpine:3@sha256:{DIGEST}", "3"),
        ("alpine:", ""),
    ],
)
def test_image_tag(image: str, tag: str | None) -> None:
    assert image_tag(image) == tag


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (f"alpine@sha256:{DIGEST}", ImageClass.DIGEST),
        (f"docker://alpine:3.20@sha256:{DIGEST}", ImageClass.DIGEST),
        ("alpine:3.20", ImageClass.TAGGED),
        ("docker://ghcr.io/o/i:1", ImageClass.TAGGED),
        ("alpine", ImageClass.UNTAGGED_OR_LATEST),
        ("alpine:latest", ImageClass.UNTAGGED_OR_LATEST),
        ("alpine:", ImageClass.UNTAGGED_OR_LATEST),
        ("localhost:5000/alpine", ImageClass.UNTAGGED_OR_LATEST),
        (f"alpine@sha256:{DIGEST[:20]}", ImageClass.UNTAGGED_OR_LATEST),
        ("${{ matrix.image }}", ImageClass.EXPRESSION),
        ("$IMAGE", ImageClass.VARIABLE),
        ("${REGISTRY}/app:1", ImageClass.VARIABLE),
        ("${TAG:-${DEFAULT}}", ImageClass.VARIABLE),
    ],
)
def test_classify_image(image: str, expected: ImageClass) -> None:
    assert classify_image(image) is expected


@pytest.mark.parametrize(
    "hostile",
    [
        "${" * 500_000,  # an unclosed `${` per character made the variable search quadratic
        "1" + ".1" * 500_000 + "!",  # nested repeats made the tag regex quadratic
    ],
)
def test_hostile_values_are_classified_in_linear_time(hostile: str) -> None:
    started = time.perf_counter()
    classify_image(hostile)
    classify_uses(f"a/b@{hostile}")
    describe_ref(hostile)
    assert time.perf_counter() - started < 1.0
