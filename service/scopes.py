"""The scopes a token carries and what each allows: names only, so that the command line
(`motionlab token create --scope`) can offer them without loading the web stack that checks
them (service.auth)."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    UPLOAD = "upload"
    READ = "read"
    TRAIN = "train"
    ADMIN = "admin"


SCOPE_HELP = {
    Scope.UPLOAD: "POST /v1/sessions and GET /v1/labels only (a phone, /collect)",
    Scope.READ: "every GET and download (CI)",
    Scope.TRAIN: "start and cancel runs and sweeps, predict, evaluate, live classification",
    Scope.ADMIN: "everything: deletes, registry writes, ?replace=true, tokens, audit log",
}
