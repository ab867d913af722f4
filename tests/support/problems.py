"""The shape every error answer has (RFC 9457 problem details)."""

from __future__ import annotations

import httpx


def problem(response: httpx.Response, status: int) -> dict:
    """The RFC 9457 problem of an error answer, after checking its status and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == status, body
    assert body["type"].startswith("urn:motionlab:problem:"), body
    assert body["title"] and body["detail"], body
    assert "Traceback" not in response.text
    return body
