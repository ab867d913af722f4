"""The client and the CLI in a project: `Client(project=…)`, `--project`, MOTIONLAB_PROJECT.
Without one, every call keeps its URL from before projects (the default project)."""

from __future__ import annotations

import json

import httpx
import pytest

from motionlab_client import Client
from motionlab_client.errors import MotionlabError
from tests.support.cli import motionlab

pytestmark = pytest.mark.integration  # a live server on SQLite

CSV = "sessionId,activity,x,y\n" + "".join(f"fit-1,squat,{i},{i % 3}\n" for i in range(40))


def test_a_client_of_a_project_sees_and_writes_only_that_project(live, tmp_path):
    assert httpx.post(f"{live.url}/v1/projects", json={"name": "fitness"}).status_code == 201
    data = tmp_path / "fit-1.csv"
    data.write_text(CSV)
    with Client(live.url, project="fitness") as fitness, Client(live.url) as default:
        [stored] = fitness.upload(data)
        assert stored["id"] == "fit-1"
        assert [s["id"] for s in fitness.sessions()] == ["fit-1"]
        assert "fit-1" not in [s["id"] for s in default.sessions()]
        assert fitness.get_json("/v1/projects")[-1]["name"] == "fitness"  # the server's own
    with Client(live.url, project="nowhere") as nowhere, pytest.raises(MotionlabError) as error:
        nowhere.sessions()
    assert error.value.status == 404 and "nowhere" in str(error.value)
    by_flag = motionlab("sessions", "--json", "--project", "fitness", url=live.url)
    by_environment = motionlab("sessions", "--json", url=live.url, MOTIONLAB_PROJECT="fitness")
    for listed in (by_flag, by_environment):
        assert listed.returncode == 0, listed.stderr
        assert [s["id"] for s in json.loads(listed.stdout)] == ["fit-1"]
    default_listing = motionlab("sessions", "--json", url=live.url)
    assert "fit-1" not in [s["id"] for s in json.loads(default_listing.stdout)]


def test_projects_are_listed_created_and_deleted_from_the_command_line(live):
    created = motionlab("project", "create", "gestures", url=live.url)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "project gestures created"
    listed = motionlab("project", "list", "--json", url=live.url)
    names = [p["name"] for p in json.loads(listed.stdout)]
    assert names[0] == "default" and "gestures" in names
    again = motionlab("project", "create", "gestures", url=live.url)
    assert again.returncode == 3 and "gestures" in again.stderr  # the server's 409, said
    nameless = motionlab("project", "delete", url=live.url)
    assert nameless.returncode == 2 and "motionlab project delete NAME" in nameless.stderr
    default = motionlab("project", "delete", "default", url=live.url)
    assert default.returncode == 3 and "default" in default.stderr
    deleted = motionlab("project", "delete", "gestures", url=live.url)
    assert deleted.returncode == 0, deleted.stderr
    listed = motionlab("project", "list", url=live.url)
    assert "gestures" not in listed.stdout and "default" in listed.stdout
