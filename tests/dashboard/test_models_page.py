"""The models page in Chromium: versions, aliases and their history, promote with a token."""

from __future__ import annotations

import pytest

from tests.support.browser import TOKENS
from tests.support.runs import start_run, wait_for

MODEL = "GestureClassifier"


@pytest.fixture(scope="module")
def two_versions(dashboard, quick_run) -> None:
    """Versions 1 (the quick run) and 2 (one more short run); `production` → 1."""
    api = dashboard.api
    second = start_run(api, experiment="models", prediction_window=10, max_iterations=1)
    assert wait_for(api, second, {"succeeded", "failed"}, timeout_s=300)["status"] == "succeeded"
    for run_id in (quick_run, second):
        response = api.post(f"/v1/models/{MODEL}/versions", json={"run_id": run_id})
        assert response.status_code == 201, response.text
    assert api.put(f"/v1/models/{MODEL}/aliases/production", json={"version": 1}).is_success


def test_promoting_a_version_from_the_page_moves_the_alias(visitor, dashboard, two_versions):
    page = visitor.page
    own = f"section[data-model='{MODEL}']"  # other tests register models of their own
    visitor.expected_statuses = {401, 403}  # before the token, then with too small a one
    visitor.open("/models", "#notice:not([hidden])")
    page.fill("#token-input", TOKENS["read"])
    page.click("#token-form button")
    page.wait_for_selector(f"{own} table.versions tbody tr")
    versions = page.locator(f"{own} table.versions tbody tr").all_inner_texts()
    assert [row.split("\t")[0] for row in versions] == ["2", "1"]  # newest first
    assert versions[1].split("\t")[1] == "production"
    assert page.evaluate("sessionStorage.getItem('motionlab.token')") == TOKENS["read"]

    page.select_option(f"{own} .promote-version", "2")
    page.click(f"{own} .promote button")
    page.wait_for_selector("#notice:has-text(\"needs 'admin'\")")
    aliases = dashboard.api.get(f"/v1/models/{MODEL}").json()["aliases"]
    assert aliases == {"production": 1}  # refused: a read token cannot move aliases

    page.fill("#token-input", TOKENS["admin"])
    page.click("#token-form button")
    page.wait_for_selector(f"{own} table.versions tbody tr")
    page.select_option(f"{own} .promote-version", "2")
    page.click(f"{own} .promote button")
    page.wait_for_selector("#notice:has-text('production → version 2')")
    model = dashboard.api.get(f"/v1/models/{MODEL}").json()
    assert model["aliases"] == {"production": 2}
    newest = model["alias_history"][0]
    assert (newest["alias"], newest["previous_version"], newest["version"], newest["by"]) == (
        "production",
        1,
        2,
        "admin",
    )
    history = page.locator(f"{own} table.alias-history tbody tr").first.inner_text().split("\t")
    assert history[1:] == ["production", "1", "2", "admin"]
    visitor.screenshot("models")
    visitor.assert_clean()
