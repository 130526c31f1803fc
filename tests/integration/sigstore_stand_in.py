"""A private Sigstore instance for signing tests: a CA, a CT log key, a Rekor key, trust files.

`PrivateInstance.issue` makes what Fulcio makes (a short-lived code-signing certificate for
an identity, with an embedded SCT from the CT log key) and `log_entry` what Rekor v1 returns
for a DSSE entry (the canonical body, a signed checkpoint over a one-leaf tree, and a
signed entry timestamp), so sigstore-python's own checks pass on both sides.
`trust_config` writes the client trust config naming the services' URLs.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
GITHUB = "https://token.actions.githubusercontent.com"
START = "2020-01-01T00:00:00Z"
IDENTITY = "https://github.com/octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main"


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _utf8_string(text: str) -> bytes:
    data = text.encode()
    return b"\x0c" + _der_length(len(data)) + data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class PrivateInstance:
    """The keys and CA certificate of a private Sigstore instance."""

    ca_key: ec.EllipticCurvePrivateKey = field(default_factory=_new_key)
    ct_key: ec.EllipticCurvePrivateKey = field(default_factory=_new_key)
    rekor_key: ec.EllipticCurvePrivateKey = field(default_factory=_new_key)

    def __post_init__(self) -> None:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "envsecops test CA")])
        now = dt.datetime.now(dt.UTC)
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .sign(self.ca_key, hashes.SHA256())
        )

    def issue(
        self, public_key: ec.EllipticCurvePublicKey, identity: str, *, issuer: str = GITHUB
    ) -> x509.Certificate:
        """A Fulcio-shaped leaf for ``public_key`` with an embedded SCT from the CT log."""
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(minutes=10))
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]),
                critical=True,
            )
            .add_extension(x509.UnrecognizedExtension(ISSUER_V1, issuer.encode()), critical=False)
            .add_extension(
                x509.UnrecognizedExtension(ISSUER_V2, _utf8_string(issuer)), critical=False
            )
        )
        precert = builder.sign(self.ca_key, hashes.SHA256())
        sct = self._sct(precert.tbs_certificate_bytes, now)
        sct_list = struct.pack("!H", len(sct) + 2) + struct.pack("!H", len(sct)) + sct
        der_octets = b"\x04" + _der_length(len(sct_list)) + sct_list
        return builder.add_extension(
            x509.UnrecognizedExtension(SCT_LIST_OID, der_octets), critical=False
        ).sign(self.ca_key, hashes.SHA256())

    def _sct(self, tbs: bytes, now: dt.datetime) -> bytes:
        issuer_key_id = hashlib.sha256(_spki(self.ca_key.public_key())).digest()
        log_id = hashlib.sha256(_spki(self.ct_key.public_key())).digest()
        millis = int(now.timestamp() * 1000)
        entry = issuer_key_id + struct.pack("!I", len(tbs))[1:] + tbs
        signed = struct.pack("!BBQH", 0, 0, millis, 1) + entry + struct.pack("!H", 0)
        signature = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return (
            struct.pack("!B", 0)
            + log_id
            + struct.pack("!QH", millis, 0)
            + struct.pack("!BBH", 4, 3, len(signature))
            + signature
        )

    def log_entry(self, proposed: dict[str, Any]) -> dict[str, Any]:
        """What Rekor v1 answers to a proposed dsse/0.0.1 entry: a one-leaf log, signed."""
        content = proposed["spec"]["proposedContent"]
        envelope = json.loads(content["envelope"])
        payload = base64.b64decode(envelope["payload"])
        body = rfc8785.dumps(
            {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(content["envelope"].encode()).hexdigest(),
                    },
                    "payloadHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(payload).hexdigest(),
                    },
                    "signatures": [
                        {"signature": envelope["signatures"][0]["sig"], "verifier": verifier}
                        for verifier in content["verifiers"]
                    ],
                },
            }
        )
        log_id = hashlib.sha256(_spki(self.rekor_key.public_key())).digest()
        root = hashlib.sha256(b"\x00" + body).digest()
        note = f"envsecops-test-rekor\n1\n{_b64(root)}\n"
        note_sig = self.rekor_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = f"{note}\n\u2014 envsecops-test-rekor {_b64(log_id[:4] + note_sig)}\n"
        integrated = int(time.time())
        promise = rfc8785.dumps(
            {
                "body": _b64(body),
                "integratedTime": integrated,
                "logID": log_id.hex(),
                "logIndex": 0,
            }
        )
        entry = {
            "body": _b64(body),
            "integratedTime": integrated,
            "logID": log_id.hex(),
            "logIndex": 0,
            "verification": {
                "inclusionProof": {
                    "checkpoint": checkpoint,
                    "hashes": [],
                    "logIndex": 0,
                    "rootHash": root.hex(),
                    "treeSize": 1,
                },
                "signedEntryTimestamp": _b64(
                    self.rekor_key.sign(promise, ec.ECDSA(hashes.SHA256()))
                ),
            },
        }
        return {hashlib.sha256(body).hexdigest(): entry}

    def trusted_root(self, fulcio: str, rekor: str) -> dict[str, Any]:
        """The trusted root of this instance."""

        def key(public: ec.EllipticCurvePublicKey) -> dict[str, Any]:
            return {
                "rawBytes": _b64(_spki(public)),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": START},
            }

        def log(url: str, public: ec.EllipticCurvePublicKey) -> dict[str, Any]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": key(public),
                "logId": {"keyId": _b64(hashlib.sha256(_spki(public)).digest())},
            }

        ca_der = self.ca.public_bytes(serialization.Encoding.DER)
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(rekor, self.rekor_key.public_key())],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "envsecops", "commonName": "test"},
                    "uri": fulcio,
                    "certChain": {"certificates": [{"rawBytes": _b64(ca_der)}]},
                    "validFor": {"start": START},
                }
            ],
            "ctlogs": [log("http://127.0.0.1:9/ct", self.ct_key.public_key())],
            "timestampAuthorities": [],
        }


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def trust_config(path: Path, instance: PrivateInstance, *, fulcio: str, rekor: str) -> Path:
    """Write a client trust config for ``instance`` with these service URLs to ``path``."""

    def service(url: str) -> dict[str, Any]:
        return {
            "url": url,
            "majorApiVersion": 1,
            "validFor": {"start": START},
            "operator": "envsecops-test",
        }

    config = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": instance.trusted_root(fulcio, rekor),
        "signingConfig": {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(fulcio)],
            "oidcUrls": [],
            "rekorTlogUrls": [service(rekor)],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        },
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path
