"""The loopback fault proxy, taught STS: it records the forms it forwards and answers STS errors.

:class:`StsProxy` is :class:`tests.integration.fault_proxy.FaultProxy` (transport faults: timeouts,
resets, 500s) plus what STS tests need: each request's form fields (``Action``, ``Tags.member.1.
Value``, ``SourceIdentity``…) in :attr:`StsProxy.forms`, STS-shaped XML errors (``Throttling``,
``AccessDenied``…) queued per action in :attr:`StsProxy.errors`, answers rewritten per action
(:attr:`StsProxy.rewrites`: an endpoint that answers for another account), and every secret
that travelled back through it (secret keys, session tokens) in :attr:`StsProxy.secrets`, so a
test can grep its output for credentials it never saw directly (the gate role's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from tests.integration.fault_proxy import FaultProxy

SIGNER = re.compile(r"Credential=([A-Z0-9]+)/")
SECRET_ELEMENTS = re.compile(rb"<(SecretAccessKey|SessionToken)>([^<]+)</\1>")
STS_ERROR = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>"""
MESSAGES = {
    "Throttling": "Rate exceeded",
    "RequestLimitExceeded": "Request limit exceeded.",
    "AccessDenied": "User: arn:aws:sts::123456789012:assumed-role/gate/x is not authorized to "
    "perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/target",
    "InvalidIdentityToken": "No OpenIDConnect provider found in your account for "
    "https://token.actions.githubusercontent.com",
    "ExpiredTokenException": "Token expired: current date/time 1740000000 must be before the "
    "expiration date/time 1739999999",
    "IDPCommunicationError": "Couldn't retrieve verification key from your identity provider",
}


def every(_method: str, _path: str) -> bool:
    """A fault selector matching every request (STS calls are all ``POST /``)."""
    return True


@dataclass(frozen=True)
class QueuedError:
    """An STS error to answer instead of forwarding, the next time ``action`` is called."""

    action: str
    code: str
    status: int = 400


@dataclass
class StsProxy(FaultProxy):
    """A FaultProxy in front of moto's STS; see the module docstring."""

    errors: list[QueuedError] = field(default_factory=list)
    rewrites: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    forms: list[dict[str, str]] = field(default_factory=list)
    signers: list[str | None] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    def actions(self) -> list[str]:
        """The ``Action`` of every request that got past the transport faults, in order."""
        return [form.get("Action", "") for form in self.forms]

    def signer(self, action: str) -> str | None:
        """The access key id that signed the first request for ``action`` (None: unsigned)."""
        return next(
            s for f, s in zip(self.forms, self.signers, strict=True) if f.get("Action") == action
        )

    def calls(self, action: str) -> list[dict[str, str]]:
        """The forms of every request for ``action``."""
        return [form for form in self.forms if form.get("Action") == action]

    def forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Record the form; answer a queued STS error, or forward to moto and note its secrets."""
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
        signer = SIGNER.search(authorization) if authorization else None
        with self._lock:
            self.forms.append(form)
            self.signers.append(signer.group(1) if signer else authorization)
            queued = next(
                (e for e in self.errors if e.action == form.get("Action")),
                None,
            )
            if queued is not None:
                self.errors.remove(queued)
        if queued is not None:
            kind = "Receiver" if queued.status >= 500 else "Sender"
            message = MESSAGES.get(queued.code, "injected by the STS proxy")
            xml = STS_ERROR.format(kind=kind, code=queued.code, message=message).encode()
            return queued.status, [("Content-Type", "text/xml")], xml
        status, answer_headers, answer = super().forward(method, path, headers, body)
        if form.get("Action") in self.rewrites:
            old, new = self.rewrites[form.get("Action", "")]
            answer = answer.replace(old, new)
        with self._lock:
            self.secrets.update(m.group(2).decode() for m in SECRET_ELEMENTS.finditer(answer))
        return status, answer_headers, answer
