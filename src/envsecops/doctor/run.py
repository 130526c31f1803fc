"""Run the doctor: build the PyGithub client, run each registered check, collect the report.

A check whose read GitHub refused (403, 404) is a "cannot check" result; anything else that
goes wrong with the service (unreachable, 5xx, rate limited, bad credentials, answers of the
wrong shape) stops the run with an InfraError, exit 3.
"""

from __future__ import annotations

from envsecops.doctor.api import DoctorApi
from envsecops.doctor.context import Context, Options
from envsecops.doctor.model import Report, Target
from envsecops.doctor.registry import checks_for
from envsecops.gh.api import build_client
from envsecops.policy.remote import settings_for


def run_doctor(target: Target, options: Options, *, api_url: str, token: str | None) -> Report:
    """Check ``target`` through the GitHub API at ``api_url`` with ``token``."""
    settings = settings_for(api_url, token)
    ctx = Context(target, options, DoctorApi(settings, build_client(settings)))
    return Report(target, tuple(check(ctx) for check in checks_for(target.kind)))
