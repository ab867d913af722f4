"""The one exception type of the client: the server's problem details, why it was not
reached, or what was wrong before any request was sent (`InputError`)."""

from __future__ import annotations

from typing import Any

import httpx


class MotionlabError(Exception):
    """A request that failed: `status` (None when the server was not reached) and `problem`,
    the RFC 9457 problem details the server answered (`type`, `title`, `detail`, …)."""

    def __init__(self, status: int | None, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        super().__init__(self.message)

    @property
    def title(self) -> str:
        return str(self.problem.get("title", ""))

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail", ""))

    @property
    def type(self) -> str:
        return str(self.problem.get("type", ""))

    @property
    def message(self) -> str:
        where = f"{self.status} {self.title}" if self.status else self.title
        return f"{where}: {self.detail}" if self.detail else where

    @classmethod
    def from_response(cls, response: httpx.Response) -> MotionlabError:
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            problem = {"title": response.reason_phrase, "detail": response.text[:500]}
        return cls(response.status_code, problem)

    @classmethod
    def unreachable(cls, url: str, error: Exception) -> MotionlabError:
        return cls(
            None,
            {
                "title": "Server not reached",
                "detail": f"{url}: {error}; is `motionlab serve` running there (MOTIONLAB_URL)?",
            },
        )


class RunFailed(MotionlabError):
    """A run that ended failed or canceled, with the server's reason."""

    def __init__(self, run_id: str, status: str, reason: str | None):
        super().__init__(
            None,
            {"title": f"Run {run_id} {status}", "detail": reason or "", "run_status": status},
        )
        self.run_id = run_id
        self.run_status = status


class InputError(MotionlabError):
    """Found before any request: a local file that is not there, a file type motionlab does not
    take, a pattern that does not match, an argument of the wrong kind."""

    def __init__(self, title: str, detail: str):
        super().__init__(None, {"title": title, "detail": detail})
