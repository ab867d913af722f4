"""Checks before a command starts: a schema it can use, and an address it may safely serve.

Each ends the process with a message that says what to do (exit status 2), instead of a
server that answers /healthz and fails everything else, or one open to the network.
"""

from __future__ import annotations

import logging
import ssl
import sys

from core.db import make_engine
from core.migrate import SchemaNotCurrent, require_current
from core.settings import Settings
from service.auth import Authenticator
from service.guard import CREATE_TOKEN_HINT, is_loopback

log = logging.getLogger("motionlab")
EXIT_NOT_READY = 2


def fail(message: str) -> None:
    print(f"motionlab: {message}", file=sys.stderr)
    sys.exit(EXIT_NOT_READY)


def require_migrated(settings: Settings) -> str:
    """The database's revision; exits with "run `motionlab migrate`" when it is behind."""
    try:
        return require_current(settings.resolved_database_url)
    except SchemaNotCurrent as error:
        fail(str(error))
        raise  # unreachable: fail exits


def require_reachable_store(settings: Settings) -> None:
    """The store of MOTIONLAB_STORE_URL answers (its bucket exists, the credentials work)."""
    if not settings.store_url:
        return  # the home: created on demand, like the database file
    from core.object_store import open_object_store
    from core.storage import STORE_PACKS

    try:
        next(iter(open_object_store(settings).list_objects(STORE_PACKS)), None)
    except Exception as error:  # whatever the client raises: say what was tried, and stop
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        fail(
            f"the store MOTIONLAB_STORE_URL={settings.store_url} cannot be read: {first_line}. "
            "Check the bucket exists, the AWS_* credentials and region, and the endpoint "
            "(MOTIONLAB_S3_ENDPOINT_URL or AWS_ENDPOINT_URL)"
        )


def require_safe_address(settings: Settings) -> None:
    """No tokens: loopback only, unless MOTIONLAB_INSECURE says otherwise (loudly)."""
    engine = make_engine(settings.resolved_database_url)
    try:
        tokens_exist = Authenticator(settings, engine).tokens_exist()
    except (ValueError, OSError) as error:
        fail(f"MOTIONLAB_TOKENS / MOTIONLAB_TOKENS_FILE: {error}")
        raise
    finally:
        engine.dispose()
    if tokens_exist or is_loopback(settings.host):
        return
    if settings.insecure:
        log.warning(
            "INSECURE: serving %s with no API tokens (MOTIONLAB_INSECURE is set): anyone who "
            "reaches this port can upload, delete, train and move the production alias",
            settings.host,
        )
        return
    fail(
        f"refusing to listen on {settings.host} without API tokens: anyone on the network could "
        f"change or delete everything. Create one first ({CREATE_TOKEN_HINT}; e.g. "
        "`motionlab token create --name admin --scope admin`), or give them by environment "
        "(MOTIONLAB_TOKENS=name:scope:token), or listen on 127.0.0.1. "
        "MOTIONLAB_INSECURE=1 serves without authentication anyway."
    )


def require_usable_tls(settings: Settings) -> None:
    """A certificate and its key together, both readable and matching, or neither (plain HTTP):
    found now rather than as a handshake error on a phone."""
    cert, key = settings.tls_cert, settings.tls_key
    if cert is None and key is None:
        return
    if cert is None or key is None:
        given, missing = ("--tls-cert", "--tls-key") if key is None else ("--tls-key", "--tls-cert")
        fail(f"{given} needs {missing} too: HTTPS takes a certificate and its private key")
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        fail(
            f"cannot serve HTTPS with certificate {cert} and key {key}: {error}. Give a PEM "
            "certificate and the PEM private key that matches it (README: Record from a phone)"
        )
