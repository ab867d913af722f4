"""The CLI's progress bar: it moves within an epoch as its batches train (on a terminal), and
writes a line per finished epoch to a log."""

from __future__ import annotations

import io

import pytest

from motionlab_client.run import ProgressBar, Run

pytestmark = pytest.mark.unit


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class ScriptedClient:
    """GET answers of a run that trains two epochs: the run, then its progress rows."""

    def __init__(self, states: list[tuple[dict, list[dict]]]):
        self.states = states
        self.step = -1

    def get_json(self, path: str):
        if path.endswith("/progress"):
            return self.states[self.step][1]
        self.step += 1
        return self.states[self.step][0]


PARAMS = {"max_iterations": 2}
ROW = {"train_accuracy": 0.5, "validation_accuracy": None, "train_loss": 0.9}


def run_state(status: str, live: dict | None) -> dict:
    return {"id": "r1", "status": status, "params": PARAMS, "live_progress": live}


def live(iteration: int, done: int, loss: float | None, elapsed_s: float) -> dict:
    return {
        "iteration": iteration,
        "batches_done": done,
        "batches_total": 10,
        "train_loss": loss,
        "elapsed_s": elapsed_s,
    }


def test_the_bar_moves_with_the_batches_of_the_epoch_in_progress():
    client = ScriptedClient(
        [
            (run_state("running", live(1, 0, None, 0.2)), []),
            (run_state("running", live(1, 5, 1.25, 1.0)), []),
            (
                run_state("running", live(2, 5, 0.5, 3.0)),
                [{"iteration": 1, "elapsed_s": 2.0, **ROW}],
            ),
            (run_state("succeeded", None), [{"iteration": 1, "elapsed_s": 2.0, **ROW}]),
        ]
    )
    terminal = Terminal()
    run = Run(client, run_state("queued", None))  # type: ignore[arg-type]
    bar = ProgressBar(run, terminal)
    run.wait(progress=bar, poll_s=0, check=False)
    bar.close()
    frames = terminal.getvalue().split("\r")[1:]
    assert frames[0].startswith("[" + "." * 24 + "] 1/2  batch 0/10  0.2 s")
    assert frames[1].startswith("[" + "#" * 6 + "." * 18 + "] 1/2  batch 5/10  train loss 1.250")
    assert frames[2].startswith("[" + "#" * 12 + "." * 12 + "] 1/2  train acc 0.500")
    assert frames[3].startswith("[" + "#" * 18 + "." * 6 + "] 2/2  batch 5/10  train loss 0.500")


def test_the_bar_says_the_run_prepares_its_data_before_its_first_batch():
    preparing = {"phase": "preparing", "sessions_loaded": 0, "sessions_total": 80}
    client = ScriptedClient(
        [
            (run_state("running", {**preparing, "rows_loaded": 0, "elapsed_s": 0.1}), []),
            (run_state("running", {**live(1, 0, None, 0.2), "phase": "training"}), []),
            (run_state("succeeded", None), []),
        ]
    )
    terminal = Terminal()
    run = Run(client, run_state("queued", None))  # type: ignore[arg-type]
    run.wait(progress=ProgressBar(run, terminal), poll_s=0, check=False)
    frames = terminal.getvalue().split("\r")[1:]
    assert frames[0].startswith("[" + "." * 24 + "] preparing data: 0/80 sessions loaded  0.1 s")
    assert frames[1].startswith("[" + "." * 24 + "] 1/2  batch 0/10  0.2 s")


def test_a_log_gets_a_line_per_epoch_and_no_batches():
    log = io.StringIO()
    bar = ProgressBar(Run(None, run_state("running", None)), log)  # type: ignore[arg-type]
    bar.epoch_in_progress(live(1, 5, 1.25, 1.0))
    bar({"iteration": 1, "elapsed_s": 2.0, **ROW}, {})
    assert (
        log.getvalue()
        == "[############............] 1/2  train acc 0.500  train loss 0.900  2.0 s\n"
    )
