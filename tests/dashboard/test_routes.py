"""The dashboard's routes over HTTP (no browser): shells, assets, and nothing outside them."""

from __future__ import annotations

import pytest

from tests.support.problems import problem


@pytest.mark.both_databases
def test_every_page_is_a_shell_that_loads_its_script(api):
    for path, script in [
        ("/", "data"),
        ("/sessions/walk-001", "session"),
        ("/runs", "runs"),
        ("/runs/abc", "run"),
        ("/compare?runs=a,b", "compare"),
        ("/models", "models"),
        ("/sweeps/abc", "sweep"),
        ("/tokens", "tokens"),
        ("/collect", "collect"),
    ]:
        response = api.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert f'<script type="module" src="/static/js/{script}.js">' in response.text
        assert api.get(f"/static/js/{script}.js").status_code == 200


def test_the_recorder_s_service_worker_is_served_from_the_root_to_control_collect(api):
    worker = api.get("/collect.sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert '"/collect"' in worker.text and "caches.match" in worker.text


def test_a_path_parameter_reaches_the_page_escaped(api):
    page = api.get('/sessions/"><img src=x onerror=alert(1)>').text
    assert "<img" not in page
    assert 'data-session-id="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in page
    assert "<title>Session &quot;&gt;&lt;img" in page


def test_an_asset_outside_the_static_folder_is_not_served(api):
    script = api.get("/static/js/run.js")
    assert script.headers["content-type"].startswith("text/javascript")  # module scripts
    assert script.headers["cache-control"] == "no-cache"  # an upgrade shows at once
    assert (
        api.get("/static/js/run.js", headers={"If-None-Match": script.headers["etag"]}).status_code
        == 304
    )
    library = api.get("/static/vendor/chart.js/chart.umd.min.js")
    assert library.headers["cache-control"] == "public, max-age=86400"
    for path in ("/static/%2e%2e/router.py", "/static/js/..%2F..%2Frouter.py", "/static/js/x.js"):
        assert "no dashboard asset" in problem(api.get(path), 404)["detail"], path


def test_the_docs_load_their_assets_from_this_server(api):
    swagger = api.get("/docs").text
    assert "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in swagger
    assert "persistAuthorization" in swagger  # a pasted token survives a reload
    redoc = api.get("/redoc").text
    assert "/static/vendor/redoc/redoc.standalone.js" in redoc
    for page in (swagger, redoc):
        assert "https://" not in page
