"""pin-check as SARIF 2.1.0, shaped for GitHub code scanning (one run, stable fingerprints)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from envsecops.model import Confidence, Finding, Severity
from envsecops.pins.engine import PinReport
from envsecops.pins.rules.base import Rule
from envsecops.pins.suppress import Suppressed
from envsecops.report.context import RenderContext

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/envsecops/envsecops"
SRCROOT = "%SRCROOT%"
MAX_RESULTS = 25_000
"""GitHub code scanning rejects a run with more results than this."""
FINGERPRINT_KEY = "envsecops/v1"

LEVEL_BY_SEVERITY = {
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "2.0"}
"""Code scanning's numeric severity (7-8.9 high, 4-6.9 medium, 0.1-3.9 low); info has none."""
PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}
SUPPRESSION_KIND = {"inline": "inSource", "policy": "external"}


def _quote(path: str) -> str:
    """Percent-encode a path's bytes (an undecodable file name keeps its original bytes)."""
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "surrogatepass")
    return quote(raw, safe="/")


def artifact_location(path: str) -> dict[str, str]:
    """A SARIF artifactLocation: a percent-encoded POSIX URI relative to %SRCROOT%."""
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return {"uri": "file://" + _quote(posix)}
    while posix.startswith("./"):
        posix = posix[2:]
    return {"uri": _quote(posix), "uriBaseId": SRCROOT}


def region(finding: Finding) -> dict[str, int] | None:
    """The region where it is known; SARIF's endColumn is exclusive, like Finding's."""
    if finding.line < 1:
        return None
    out = {"startLine": finding.line}
    if finding.column >= 1:
        out["startColumn"] = finding.column
    end_line = finding.end_line
    if end_line is None or end_line < finding.line:
        return out
    out["endLine"] = end_line
    end_column = finding.end_column
    if (
        end_column is not None
        and "startColumn" in out
        and (end_line > finding.line or end_column >= finding.column)
    ):
        out["endColumn"] = end_column
    return out


def fingerprints(entries: list[tuple[Finding, Suppressed | None]]) -> list[str]:
    """One stable hash per entry: rule, path, reference and occurrence, never the line."""
    seen: Counter[tuple[str, str, str]] = Counter()
    out: list[str] = []
    for finding, _ in entries:
        key = (finding.rule_id, finding.path, finding.reference)
        occurrence = seen[key]
        seen[key] += 1
        material = "\0".join((*key, str(occurrence))).encode("utf-8", "surrogatepass")
        out.append(hashlib.sha256(material).hexdigest())
    return out


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def _descriptor(rule: Rule) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "tags": ["security", "supply-chain"],
        "precision": PRECISION[rule.confidence],
        "problem.severity": {"error": "error", "warning": "warning"}.get(
            LEVEL_BY_SEVERITY[rule.severity], "recommendation"
        ),
    }
    if rule.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[rule.severity]
    return {
        "id": rule.id,
        "name": _pascal(rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.help},
        "help": {
            "text": f"{rule.help}\n\nDocumentation: {rule.help_uri}",
            "markdown": f"{rule.help}\n\n[Documentation]({rule.help_uri})",
        },
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": LEVEL_BY_SEVERITY[rule.severity]},
        "properties": properties,
    }


def _unknown_descriptor(rule_id: str) -> dict[str, Any]:
    return {"id": rule_id, "name": _pascal(rule_id), "shortDescription": {"text": rule_id}}


def _result(
    finding: Finding, suppressed: Suppressed | None, index: int | None, fingerprint: str
) -> dict[str, Any]:
    text = finding.message or finding.rule_id
    if finding.fix:
        text += f"\nFix: {finding.fix}"
    location: dict[str, Any] = {"artifactLocation": artifact_location(finding.path)}
    where = region(finding)
    if where is not None:
        location["region"] = where
    properties: dict[str, Any] = {
        "severity": str(finding.severity),
        "confidence": str(finding.confidence),
        "reference": finding.reference,
    }
    if finding.fix:
        properties["fix"] = finding.fix
    result: dict[str, Any] = {"ruleId": finding.rule_id}
    if index is not None:
        result["ruleIndex"] = index
    result |= {
        "level": LEVEL_BY_SEVERITY[finding.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": properties,
    }
    if suppressed is not None:
        suppression: dict[str, Any] = {
            "kind": SUPPRESSION_KIND.get(suppressed.by, "external"),
            "status": "accepted",
            "justification": suppressed.reason,
        }
        if suppressed.expires is not None:
            suppression["properties"] = {"expires": suppressed.expires.isoformat()}
        result["suppressions"] = [suppression]
    return result


def _keep(entries: list[tuple[Finding, Suppressed | None]], limit: int) -> list[int]:
    """Indices of the ``limit`` entries to report: active before suppressed, most severe first."""
    if len(entries) <= limit:
        return list(range(len(entries)))
    ranked = sorted(
        range(len(entries)),
        key=lambda i: (entries[i][1] is not None, -entries[i][0].severity.rank, i),
    )
    return sorted(ranked[:limit])


def build_log(
    report: PinReport,
    context: RenderContext,
    rules: Mapping[str, Rule],
    *,
    max_results: int = MAX_RESULTS,
) -> dict[str, Any]:
    """The SARIF log as Python data, declaring every rule in ``rules``."""
    entries: list[tuple[Finding, Suppressed | None]] = [(f, None) for f in report.findings]
    entries += [(s.finding, s) for s in report.suppressed]
    entries.sort(key=lambda e: e[0].sort_key())
    prints = fingerprints(entries)
    kept_at = _keep(entries, max_results)
    kept = [entries[i] for i in kept_at]
    descriptors = [_descriptor(rules[rule_id]) for rule_id in sorted(rules)]
    extra = sorted({f.rule_id for f, _ in kept} - set(rules))
    descriptors += [_unknown_descriptor(rule_id) for rule_id in extra]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    results = [
        _result(entries[i][0], entries[i][1], index.get(entries[i][0].rule_id), prints[i])
        for i in kept_at
    ]
    notifications = [
        {
            "level": "note",
            "message": {"text": f"skipped {path}: {why}"},
            "locations": [{"physicalLocation": {"artifactLocation": artifact_location(path)}}],
        }
        for path, why in report.skipped
    ]
    run_properties: dict[str, Any] = {
        "failOn": str(context.fail_on),
        "filesChecked": len(report.files),
        "resultsTotal": len(entries),
        "resultsOmitted": len(entries) - len(kept),
    }
    if context.policy_source is not None:
        run_properties["policy"] = context.policy_source
    if len(kept) < len(entries):
        omitted = Counter(str(f.severity) for f, _ in entries) - Counter(
            str(f.severity) for f, _ in kept
        )
        run_properties["omittedBySeverity"] = dict(sorted(omitted.items()))
        notifications.insert(
            0,
            {
                "level": "warning",
                "message": {
                    "text": f"pin-check produced {len(entries):,} results; GitHub code scanning "
                    f"accepts at most {max_results:,} per run, so the {len(entries) - len(kept):,}"
                    " least severe were left out (suppressed ones first). The text and JSON "
                    "formats list every finding."
                },
            },
        )
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "envsecops",
                        "version": context.version,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "invocations": [
                    {"executionSuccessful": True, "toolExecutionNotifications": notifications}
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": run_properties,
            }
        ],
    }


def render(report: PinReport, context: RenderContext) -> str:
    """Render as SARIF 2.1.0 JSON, declaring every registered rule."""
    from envsecops.pins.registry import RULES

    return json.dumps(build_log(report, context, RULES), indent=2) + "\n"
