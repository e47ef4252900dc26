"""Sending over STARTTLS and implicit TLS to a relay with a certificate of the test's own CA,
trusted through SSL_CERT_FILE as a campus CA would be."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpdesk.models import MailState, OutboxMail, utcnow
from tests.mail.relay import Recorder, only, relay_for
from tests.mail.test_sender import queued, sender


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: the PEM file and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "relay.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "relay.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "relay.pem", folder / "relay.key"


@pytest.fixture
def server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def trusted(certificate, monkeypatch) -> None:
    """The relay's CA trusted the way OpenSSL is told of a campus CA: SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


async def test_starttls_with_a_login_delivers(quiet, cast, server_context, trusted):
    recorder = Recorder()
    options = {"authenticator": only("helpdesk", "s3cret"), "require_starttls": True}
    async with relay_for(recorder, tls_context=server_context, **options) as port:
        row = await queued(cast)
        await sender(f"smtp+starttls://helpdesk:s3cret@127.0.0.1:{port}").tick(utcnow())
        received = await recorder.wait_for(1)
    assert len(received) == 1 and received[0]["Subject"] == "[#1] No wifi"
    assert (await OutboxMail.get(id=row.id)).state == MailState.SENT


async def test_implicit_tls_delivers(quiet, cast, server_context, trusted):
    recorder = Recorder()
    async with relay_for(recorder, ssl=server_context) as port:
        row = await queued(cast)
        await sender(f"smtps://127.0.0.1:{port}").tick(utcnow())
        received = await recorder.wait_for(1)
    assert len(received) == 1
    assert (await OutboxMail.get(id=row.id)).state == MailState.SENT


async def test_a_relay_whose_certificate_is_not_trusted_gets_nothing(quiet, cast, server_context):
    recorder = Recorder()
    async with relay_for(recorder, ssl=server_context) as port:
        row = await queued(cast)
        await sender(f"smtps://127.0.0.1:{port}").tick(utcnow())
    row = await OutboxMail.get(id=row.id)
    assert row.state == MailState.PENDING and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert recorder.received == []
