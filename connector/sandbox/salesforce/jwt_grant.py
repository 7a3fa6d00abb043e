"""The JWT bearer grant: verify a signed assertion against the connected app's certificate.

What Salesforce checks, and the error it answers (all ``invalid_grant`` unless said, HTTP 400):
- the assertion is a JWS signed RS256 with the key of the certificate uploaded to the connected app,
  else "invalid assertion";
- ``iss`` is the connected app's consumer key, else ``invalid_client_id`` "client identifier invalid";
- ``aud`` is the login server (https://login.salesforce.com, or the My Domain / this sandbox's URL),
  else "audience is invalid";
- ``exp`` is present, not past, and at most about 3 minutes ahead, else "expired authorization code"
  (past) or "invalid assertion" (missing, too far ahead);
- ``sub`` is a user pre-authorised for the app, else "user hasn't approved this consumer".
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_AHEAD_S = 180 + 30  # 3 minutes, plus the clock skew Salesforce tolerates
LOGIN_AUDIENCES = ("https://login.salesforce.com",)


class JwtRefused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description


def ensure_jwt_keys(cert_dir: Path) -> tuple[Path, Path]:
    """(private key, certificate) for the sandbox's connected app: the key an admin keeps, the certificate
    they upload. Made once per cert_dir, like the TLS files."""
    key_file, cert_file = cert_dir / "jwt-private-key.pem", cert_dir / "jwt-certificate.pem"
    if key_file.exists() and cert_file.exists():
        return key_file, cert_file
    cert_dir.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nurture Connector sandbox connected app")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def verify_assertion(assertion: str, certificate_pem: bytes, client_id: str, usernames: set[str],
                     audiences: tuple[str, ...], now: float | None = None) -> str:
    """The username the assertion signs in as, or JwtRefused with Salesforce's words."""
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    try:
        header = jwt.get_unverified_header(assertion)
        if header.get("alg") != "RS256":
            raise JwtRefused("invalid_grant", "invalid assertion")
        # Signature first; the claims are checked below so each gets Salesforce's own answer.
        claims = jwt.decode(assertion, public_key, algorithms=["RS256"],  # type: ignore[arg-type]
                            options={"verify_exp": False, "verify_aud": False, "verify_iss": False})
    except jwt.PyJWTError:
        raise JwtRefused("invalid_grant", "invalid assertion") from None
    if claims.get("iss") != client_id:
        raise JwtRefused("invalid_client_id", "client identifier invalid")
    aud = claims.get("aud")
    if not any(str(a).rstrip("/") in audiences for a in (aud if isinstance(aud, list) else [aud])):
        raise JwtRefused("invalid_grant", "audience is invalid")
    exp = claims.get("exp")
    clock = time.time() if now is None else now
    if not isinstance(exp, int | float) or exp > clock + MAX_AHEAD_S:
        raise JwtRefused("invalid_grant", "invalid assertion")
    if exp <= clock:
        raise JwtRefused("invalid_grant", "expired authorization code")
    subject = claims.get("sub") or claims.get("prn")  # prn: the older name Salesforce still honours
    if subject not in usernames:
        raise JwtRefused("invalid_grant", "user hasn't approved this consumer")
    return str(subject)
