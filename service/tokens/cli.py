"""`motionlab token create | list | revoke`: the operator's way to manage tokens.

Every `motionlab` command builds this parser, the user's commands too (a process each): what
the token commands need (the database, the web stack's auth) is imported when one runs.
"""

from __future__ import annotations

import argparse
import sys

from service.scopes import SCOPE_HELP, Scope


def add_token_commands(commands) -> None:
    token = commands.add_parser(
        "token",
        help="create, list and revoke API tokens",
        description="Scopes: " + "; ".join(f"{s}: {h}" for s, h in SCOPE_HELP.items()),
    )
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a token and print it (only this once)")
    create.add_argument("--name", required=True, help="who holds it, e.g. ana-iphone or ci")
    create.add_argument(
        "--scope", action="append", required=True, choices=list(Scope), help="repeatable"
    )
    create.add_argument(
        "--project",
        action="append",
        help="a project it may use (repeatable); none: every project",
    )
    create.set_defaults(run=cmd_create)
    listing = actions.add_parser("list", help="list tokens (not their secrets)")
    listing.add_argument("--all", action="store_true", help="include revoked tokens")
    listing.set_defaults(run=cmd_list)
    revoke = actions.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("token", help="its id (or its name, when one live token has it)")
    revoke.set_defaults(run=cmd_revoke)


def _database():
    from core.db import make_engine, make_session_factory
    from core.settings import get_settings
    from service.preflight import require_migrated

    settings = get_settings()
    require_migrated(settings)
    return make_session_factory(make_engine(settings.resolved_database_url))


def cmd_create(args: argparse.Namespace) -> None:
    from pydantic import ValidationError

    from core.db import unit_of_work
    from service.errors import InvalidInput
    from service.preflight import fail
    from service.tokens import service
    from service.tokens.schemas import TokenCreate

    try:
        request = TokenCreate(name=args.name, scopes=args.scope, projects=args.project)
    except ValidationError as error:
        fail(f"invalid token: {error.errors()[0]['msg']} (names: letters, digits, . _ @ -)")
        return
    try:
        with unit_of_work(_database()) as db:
            row, token = service.create_token(
                db, name=request.name, scopes=frozenset(request.scopes), projects=request.projects
            )
    except InvalidInput as error:
        fail(error.detail)
        return
    projects = ",".join(row.projects) if row.projects is not None else "all"
    print(
        f"created token id={row.id} name={row.name} scopes={','.join(row.scopes)} "
        f"projects={projects}; "
        "it is shown only now, store it:",
        file=sys.stderr,
    )
    print(token)


def cmd_list(args: argparse.Namespace) -> None:
    from core.db import unit_of_work
    from service.tokens import service
    from service.tokens.schemas import TokenRead

    with unit_of_work(_database()) as db:
        rows = [
            TokenRead.model_validate(r) for r in service.list_tokens(db, include_revoked=args.all)
        ]
    print(f"{'id':<10} {'name':<24} {'scopes':<22} {'created':<20} revoked")
    for row in rows:
        revoked = f"{row.revoked_at:%Y-%m-%d %H:%M} by {row.revoked_by}" if row.revoked_at else "-"
        print(
            f"{row.id:<10} {row.name:<24} {','.join(row.scopes):<22} "
            f"{row.created_at:%Y-%m-%d %H:%M:%S}  {revoked}"
        )


def cmd_revoke(args: argparse.Namespace) -> None:
    from core.db import unit_of_work
    from service.errors import NotFound
    from service.preflight import fail
    from service.tokens import service

    try:
        with unit_of_work(_database()) as db:
            row = service.revoke_token(db, token_id=args.token)
    except NotFound as error:
        fail(error.detail)
        return
    print(f"revoked token id={row.id} name={row.name}", file=sys.stderr)
