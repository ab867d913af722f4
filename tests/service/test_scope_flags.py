"""The guard reads a query flag exactly as the route does (issue 26, defect 1).

`POST /v1/sessions?replace=y` with an `upload` token overwrote a stored session: the guard
knew `1/true/yes/on`, the route (pydantic) also `t` and `y`. Both now read the flag through
`service.auth.query_flag`, and every spelling pydantic takes as true needs admin.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from pydantic import SecretStr, TypeAdapter, ValidationError
from starlette.testclient import TestClient

from service.app import create_app
from service.auth import FLAG_VALUES, query_flag, required_scope
from service.scopes import Scope

UPLOAD_TOKEN, ADMIN_TOKEN = "upload-token-" + "u" * 24, "admin-token-" + "a" * 24
CSV = {"Content-Type": "text/csv"}
PYDANTIC_BOOL = TypeAdapter(bool)


def spellings() -> set[str]:
    """Every case of every word pydantic knows, and near misses (spaces, digits, look-alikes)."""
    words = ["1", "t", "true", "y", "yes", "on", "0", "f", "false", "n", "no", "off", "ok"]
    cased = {
        "".join(letters)
        for word in words
        for letters in itertools.product(*((c.lower(), c.upper()) for c in word))
    }
    near = {" true", "true ", "\ttrue", "true\n", "1.0", "2", "01", "-1", "", "tru", "yes!"}
    look_alikes = {"ＴＲＵＥ", "１", "ｙ", "\u0130", "\u212a", "t\u0307", "y\u200b", "on\x00"}
    return cased | near | look_alikes


def pydantic_reads(value: str) -> bool | None:
    try:
        return PYDANTIC_BOOL.validate_python(value)
    except ValidationError:
        return None


@pytest.mark.unit
@pytest.mark.parametrize("value", sorted(spellings()))
def test_every_spelling_pydantic_reads_as_true_needs_admin(value):
    needed = required_scope("POST", "/v1/sessions", {"replace": [value]})
    if pydantic_reads(value) is False:
        assert needed == Scope.UPLOAD, value
    else:  # true, or a value the route refuses: the guard never guesses the weaker scope
        assert needed == Scope.ADMIN, value


@pytest.mark.unit
@pytest.mark.parametrize("value", sorted(spellings()))
def test_the_one_parser_reads_every_spelling_as_pydantic_does(value):
    expected = pydantic_reads(value)
    if expected is None:
        with pytest.raises(ValueError):
            query_flag(value)
    else:
        assert query_flag(value) is expected


@pytest.mark.unit
def test_the_parser_knows_every_spelling_pydantic_knows():
    assert {w for w in FLAG_VALUES if pydantic_reads(w) is not None} == set(FLAG_VALUES)
    assert all(pydantic_reads(w) is v for w, v in FLAG_VALUES.items())


@pytest.mark.unit
def test_a_repeated_flag_needs_admin_when_any_value_is_true():
    assert required_scope("POST", "/v1/sessions", {"replace": ["false", "y"]}) == Scope.ADMIN
    assert required_scope("POST", "/v1/sessions", {"replace": ["n", "0"]}) == Scope.UPLOAD


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    entries = f"phone:upload:{UPLOAD_TOKEN},ops:admin:{ADMIN_TOKEN}"
    settings = settings.model_copy(update={"tokens": SecretStr(entries)})
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **CSV}


@pytest.mark.parametrize("value", ["y", "Y", "t", "T", "yes", "On", "1", "TRUE"])
def test_an_upload_token_cannot_replace_a_session_whatever_the_spelling(client, value):
    body = "sessionId,activity,x\nvictim,walk,1\nvictim,walk,2\n"
    assert (
        client.post("/v1/sessions", content=body, headers=bearer(UPLOAD_TOKEN)).status_code == 201
    )
    changed = body.replace(",2", ",666")
    refused = client.post(
        f"/v1/sessions?session_id=victim&replace={value}",
        content=changed,
        headers=bearer(UPLOAD_TOKEN),
    )
    assert refused.status_code == 403, refused.text
    assert "admin" in refused.json()["detail"]
    samples = client.get("/v1/sessions/victim/samples", headers=bearer(ADMIN_TOKEN)).text
    assert "666" not in samples
    replaced = client.post(
        f"/v1/sessions?replace={value}", content=changed, headers=bearer(ADMIN_TOKEN)
    )
    assert replaced.status_code == 201 and replaced.json()["sessions"][0]["replaced"] is True


def test_a_flag_the_route_cannot_read_is_a_422_for_admin_and_403_for_upload(client):
    body = "sessionId,activity,x\ns1,walk,1\n"
    assert (
        client.post(
            "/v1/sessions?replace=maybe", content=body, headers=bearer(UPLOAD_TOKEN)
        ).status_code
        == 403
    )
    refused = client.post("/v1/sessions?replace=maybe", content=body, headers=bearer(ADMIN_TOKEN))
    assert refused.status_code == 422 and "true or false" in refused.text
