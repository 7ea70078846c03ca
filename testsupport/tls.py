"""A small local CA and a server certificate it issues, in a folder of a test's or a benchmark's own:
what the pixie_tls role makes for a device, for 127.0.0.1 and localhost."""

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

SANS = (x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"))


@dataclass
class Issued:
    ca: Path  # the CA's certificate: what a client verifies with
    cert: Path  # the server's certificate
    key: Path  # and its private key


def _key(kind: str):
    return rsa.generate_private_key(65537, 4096) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())


def _certificate(subject: str, issuer: str, public_key, signer, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if ca:
        usage = {"key_cert_sign": True, "crl_sign": True, "digital_signature": False}
    else:
        usage = {"key_cert_sign": False, "crl_sign": False, "digital_signature": True}
        builder = builder.add_extension(x509.SubjectAlternativeName(list(SANS)), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    flags = dict.fromkeys(("content_commitment", "data_encipherment", "encipher_only", "decipher_only"), False)
    key_usage = x509.KeyUsage(key_encipherment=not ca, key_agreement=False, **usage, **flags)
    return builder.add_extension(key_usage, critical=True).sign(signer, hashes.SHA256())


def issue(folder: Path, name: str = "pixie", kind: str = "ec") -> Issued:
    """A CA named `name` and a server certificate it signed, as PEM files in `folder`;
    `kind`: "ec" (P-256) or "rsa" (4096 bits, community.crypto's default) for both keys."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, key = _key(kind), _key(kind)
    ca_name = f"{name} local CA"
    ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    server = _certificate("127.0.0.1", ca_name, key.public_key(), ca_key, ca=False)
    issued = Issued(folder / f"{name}-ca.pem", folder / f"{name}-cert.pem", folder / f"{name}-key.pem")
    issued.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    issued.cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    issued.key.write_bytes(pem)
    issued.key.chmod(0o600)
    return issued
