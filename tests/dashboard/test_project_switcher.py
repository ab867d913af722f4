"""The dashboard's project switcher: a project chosen once is where every page reads and acts,
and the browser remembers it; choosing `default` (or nothing) goes back to plain /v1 URLs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import TOKENS, session_ids

pytestmark = pytest.mark.system

PROJECT = "dash-gestures"
WAVE = {"name": "wave-9.csv", "mimeType": "text/csv", "buffer": b"x,y,z\n1,2,3\n4,5,6\n"}
LISTED_IDS = "cells => cells.map((cell) => cell.textContent)"


@pytest.fixture
def gestures(dashboard) -> Iterator[str]:
    """A second project holding one session; its URL prefix. Deleted (with its sessions) after."""
    assert dashboard.api.post("/v1/projects", json={"name": PROJECT}).status_code == 201
    prefix = f"/v1/projects/{PROJECT}"
    stored = dashboard.api.post(
        f"{prefix}/sessions?session_id=only-in-gestures&activity=wave",
        content=b"x,y,z\n1,2,3\n3,4,5\n",
        headers={"Content-Type": "text/csv"},
    )
    assert stored.status_code == 201, stored.text
    yield prefix
    assert dashboard.api.delete(prefix).status_code == 204


def listed_sessions(tab) -> list[str]:
    return tab.page.eval_on_selector_all("#sessions tbody tr td:first-child", LISTED_IDS)


def switch(tab, project: str, shown: str) -> None:
    tab.page.fill("#project-input", project)
    tab.page.click("#project-form button")
    tab.page.wait_for_selector(shown)


def test_a_chosen_project_is_where_the_pages_read_and_upload_and_it_is_remembered(
    tab, dashboard, gestures
):
    admin = tab(TOKENS["admin"])
    admin.open("/", "#sessions tbody tr")
    default_sessions = listed_sessions(admin)
    assert "only-in-gestures" not in default_sessions

    switch(admin, PROJECT, "#sessions td >> text=only-in-gestures")
    assert listed_sessions(admin) == ["only-in-gestures"]
    admin.page.fill("#upload-activity", "dash-wave")
    admin.page.set_input_files("#upload-files", files=[WAVE])
    admin.page.wait_for_selector("#upload-list li[data-state='stored']")
    in_project = dashboard.api.get(f"{gestures}/sessions").json()["items"]
    assert sorted(s["id"] for s in in_project) == ["only-in-gestures", "wave-9"]
    assert "wave-9" not in session_ids(dashboard.api)  # nothing landed in the default project

    admin.open("/", "#sessions td >> text=wave-9")  # a later visit: still in the project
    assert admin.page.input_value("#project-input") == PROJECT
    assert sorted(listed_sessions(admin)) == ["only-in-gestures", "wave-9"]

    switch(admin, "default", "#sessions tbody tr")
    assert admin.page.input_value("#project-input") == ""
    assert listed_sessions(admin) == default_sessions
    admin.assert_clean()
