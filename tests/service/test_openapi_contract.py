"""The OpenAPI document is the contract: schemathesis fuzzes every operation against a live
server holding real data (sessions, succeeded runs, a registered model), with a fixed seed and
bounded examples, then follows the document's links in stateful sequences. Every default
check holds: no server error, every status, content type, header and body as documented."""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import schemathesis.engine
from pydantic import SecretStr
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from sqlalchemy.engine import make_url

from core.settings import Settings
from service.app import create_app
from service.registry.schemas import ALIAS_PATTERN, MODEL_NAME_PATTERN, REFERENCE_PATTERN
from service.sweeps.schemas import EXAMPLE as SWEEP_EXAMPLE
from tests.support.basicmotions import FEATURES
from tests.support.postgres import PostgresCluster
from tests.support.servers import LiveServer

pytestmark = pytest.mark.both_databases  # the contract fuzzing

SEED = 20261203
MAX_EXAMPLES = 100  # per operation and phase
STATEFUL_STEPS = 6
# Where a request that matches the schema may still be refused for what it means: rows
# without the model's features, sessions whose rows disagree with their columns, a run over
# sessions that are not stored. JSON Schema cannot say these; the routes answer 4xx problems,
# which the other checks still hold to the document.
SEMANTIC_BODIES = (
    r"^/v1/(sessions|runs|sweeps|runs/\{run_id\}/(predict|evaluate)"
    r"|models/\{name\}/\{ref\}/(predict|evaluate))$"
)
MODEL, ALIAS = "contract", "production"
# Filled by `contract_server`: stored things that path parameters name 7 times in 10, by
# parameter, or by (method or path, parameter): a DELETE must not remove what others read.
KNOWN: dict[str | tuple[str, str], list[str]] = {}
PATTERNS = {"name": MODEL_NAME_PATTERN, "ref": REFERENCE_PATTERN, "alias": ALIAS_PATTERN}


# The server runs as deployed, with a token: every call carries it, and schemathesis's auth
# checks (the same call without it) hold the server to the document's bearer scheme.
TOKEN = "contract-" + "0123456789abcdef" * 2
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def contract_config(**extra: Any) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": AUTH,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "max-stream-events": 2,
            "request-timeout": 20,
            "operations": [
                {
                    # A queued run's stream sends its status, then nothing until it changes.
                    "include-path-regex": "/events$",
                    "request-timeout": 1.0,
                },
                {
                    "include-path-regex": SEMANTIC_BODIES,
                    "include-method-regex": "^POST$",
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                },
            ],
            **extra,
        }
    )


def known_path_parameters(
    method: str, path: str, path_parameters: dict[str, Any] | None, *, always: bool = False
) -> None:
    """Often (or `always`) swap a generated path parameter for a stored id, so that requests
    reach past the 404. Deterministic (a hash of the generated value) and only for values the
    schema allows, so negative cases stay negative."""
    for name, value in (path_parameters or {}).items():
        choices = KNOWN.get((path, name)) or KNOWN.get((method.upper(), name)) or KNOWN.get(name)
        pattern = PATTERNS.get(name)
        if not choices or not isinstance(value, str):
            continue
        if pattern and not re.fullmatch(pattern.strip("^$"), value):
            continue
        draw = zlib.crc32(value.encode("utf-8", "surrogatepass"))
        if always or draw % 10 < 7:
            path_parameters[name] = choices[draw % len(choices)]


def stored_ids_hook(context, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """`known_path_parameters` as a schemathesis hook (for the stateful phase)."""
    known_path_parameters(context.operation.method, context.operation.path, path_parameters)
    return path_parameters


def openapi_document() -> dict:
    """The document the server serves (its routes do not depend on settings)."""
    with tempfile.TemporaryDirectory() as home:
        return create_app(Settings(home=Path(home), workers=0)).openapi()


# Loaded when the module is collected, each case then sent to the live server: schemathesis's
# fixture-based loader does not run under pytest 9 (it sets a node attribute pytest removed).
schema = schemathesis.openapi.from_dict(openapi_document(), config=contract_config())


def copy_home(source: Settings, target: Settings, cluster: PostgresCluster | None) -> Settings:
    """A consistent copy of a live home: the database (SQLite's backup, or a PostgreSQL dump
    into a new database), then files. `target` with the copy's database."""
    target.home.mkdir(parents=True)
    if cluster is not None and source.database_url is not None:
        copy = cluster.copy_database(make_url(source.database_url).database or "")
        target = target.model_copy(update={"database_url": cluster.database_url(copy)})
    else:
        with (
            sqlite3.connect(source.home / "motionlab.db") as src,
            sqlite3.connect(target.home / "motionlab.db") as dst,
        ):
            src.backup(dst)
    for folder in ("blobs", "runs"):
        if (source.home / folder).exists():
            shutil.copytree(source.home / folder, target.home / folder)
    return target


def doomed_run(api: httpx.Client) -> str:
    """A run canceled before it started: one that DELETE /v1/runs/{run_id} may remove."""
    # Its features named: sessions other modules leave on the shared served home (other
    # columns) must not change what this run trains on.
    body = {
        "prediction_window": 10,
        "max_iterations": 1,
        "split": {"strategy": "column"},
        "features": list(FEATURES),
    }
    response = api.post("/v1/runs", json=body)
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]
    assert api.post(f"/v1/runs/{run_id}/cancel").status_code == 200
    return run_id


@pytest.fixture(scope="module")
def contract_server(request, served, tmp_path_factory) -> Iterator[LiveServer]:
    """A server over a copy of the trained `served` home (the fuzzer deletes and creates), with
    a registered model and an alias."""
    home = tmp_path_factory.mktemp("contract") / "home"
    settings = served.settings.model_copy(
        update={"home": home, "tokens": SecretStr(f"contract:admin:{TOKEN}")}
    )
    postgres = served.settings.database_url is not None
    cluster = request.getfixturevalue("postgres_cluster") if postgres else None
    settings = copy_home(served.settings, settings, cluster)
    with LiveServer(settings) as live:
        with httpx.Client(base_url=live.url, headers=AUTH) as api:
            api.post(f"/v1/models/{MODEL}/versions", json={"run_id": served.run_id})
            doomed = [f"doomed-{i}" for i in range(3)]
            for alias in (ALIAS, *doomed):
                api.put(f"/v1/models/{MODEL}/aliases/{alias}", json={"version": 1})
            ids = [item["id"] for item in api.get("/v1/sessions").json()["items"]]
            doomed_runs = [doomed_run(api) for _ in range(3)]
            # Revoked by DELETE /v1/tokens/{token_id} without waiting on the stateful phase to
            # chain POST then DELETE (the more operations, the rarer that sequence is drawn).
            doomed_tokens = [
                api.post("/v1/tokens", json={"name": f"doomed-{i}", "scopes": ["read"]}).json()[
                    "id"
                ]
                for i in range(3)
            ]
            # The README's sweep on the features the trained run has: other modules leave
            # sessions of other columns on the shared served home.
            run = {**SWEEP_EXAMPLE["run"], "features": list(FEATURES)}
            sweep = api.post("/v1/sweeps", json={**SWEEP_EXAMPLE, "run": run})
            assert sweep.status_code == 201, sweep.text
        KNOWN.update(
            {
                "run_id": [served.run_id, served.other_run_id, served.queued_run_id],
                ("POST", "run_id"): [served.run_id, served.other_run_id],  # predict, evaluate
                # A queued run's stream waits for news: the stateful phase covers it.
                ("/v1/runs/{run_id}/events", "run_id"): [served.run_id, served.other_run_id],
                "session_id": ids[:5],
                "sweep_id": [sweep.json()["id"]],
                # Cancel: queued runs (the served one, the sweep's: a first cancel answers 200),
                # not only the stateful phase's new runs, which depend on what the fuzzed
                # uploads left trainable; POST's succeeded runs only answer 409.
                ("/v1/runs/{run_id}/cancel", "run_id"): [
                    served.queued_run_id,
                    *(run["id"] for run in sweep.json()["runs"]),
                ],
                ("DELETE", "session_id"): ids[-5:],
                ("DELETE", "run_id"): doomed_runs,
                ("DELETE", "token_id"): doomed_tokens,
                "name": [MODEL],
                "ref": ["1", "latest", ALIAS],
                "alias": [ALIAS, "staging"],
                ("DELETE", "alias"): doomed,
            }
        )
        yield live
        KNOWN.clear()


@schema.parametrize()
def test_every_operation_keeps_the_contract(case, contract_server):
    # The documented examples (drawn before the server existed) always name stored things.
    examples = case.meta is not None and case.meta.phase.name == "examples"
    known_path_parameters(case.method, case.path, case.path_parameters, always=examples)
    case.call_and_validate(base_url=contract_server.url)


def test_stateful_sequences_keep_the_contract(contract_server):
    """Sequences along the document's links (create a run, then read, cancel, predict…), run
    by schemathesis's engine as `st run --phases stateful` does: it tells a failure from a
    scenario that cannot be replayed because the server's state moved on."""
    only_stateful = {
        "examples": {"enabled": False},
        "coverage": {"enabled": False},
        "fuzzing": {"enabled": False},
        "stateful": {"max-steps": STATEFUL_STEPS},
    }
    live = schemathesis.openapi.from_url(
        f"{contract_server.url}/openapi.json",
        config=contract_config(**{"base-url": contract_server.url, "phases": only_stateful}),
    )
    live.hook("map_path_parameters")(stored_ids_hook)
    scenarios, failures = 0, []
    for event in schemathesis.engine.from_schema(live).execute():
        if isinstance(event, events.ScenarioFinished):
            scenarios += 1
            failures += [
                f"{check.name}: {check.failure_info.failure.title} "
                f"({check.failure_info.code_sample})"
                for checks in event.recorder.checks.values()
                for check in checks
                if check.status == Status.FAILURE and check.failure_info is not None
            ]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"error: {event}")
    print(f"\nstateful: {scenarios} scenarios")
    assert scenarios > 0
    assert failures == []


def test_the_fuzzing_reached_every_operation_and_no_5xx(contract_server):
    """The figures the server counted: thousands of requests, each operation answered 2xx at
    least once (so the checks saw real answers, not only 404s), never a 5xx."""
    text = httpx.get(f"{contract_server.url}/metrics", headers=AUTH).text
    counted = re.findall(
        r'motionlab_http_requests_total\{method="(\w+)",route="([^"]+)",status="(\d+)"\} (\d+)',
        text,
    )
    by_class = Counter()
    for method, route, status, count in counted:
        by_class[(method, route, status[0])] += int(count)
    total = sum(by_class.values())
    documented = {
        (method.upper(), path)
        for path, methods in schema.raw_schema["paths"].items()
        for method in methods
    }
    print(f"\nschemathesis: {total} requests over {len(documented)} operations")
    assert total > 3000
    assert not [key for key in by_class if key[2] == "5"], by_class
    never_succeeded = sorted(key for key in documented if by_class[(*key, "2")] == 0)
    assert never_succeeded == [], never_succeeded
