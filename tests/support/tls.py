"""A self-signed certificate for 127.0.0.1 and localhost, made by the openssl command (as the
README tells a user to make one), for the HTTPS tests."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed_certificate(directory: Path, *names: str) -> tuple[Path, Path]:
    """(certificate, key) PEM files valid a day for 127.0.0.1, localhost and `names`."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    alt = ",".join(["IP:127.0.0.1", "DNS:localhost", *(f"DNS:{n}" for n in names)])
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"]
    command += ["ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert)]
    command += ["-days", "1", "-subj", "/CN=motionlab test", "-addext", f"subjectAltName={alt}"]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key
