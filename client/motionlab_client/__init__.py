"""A typed Python client of the motionlab API, on httpx and the standard library only.

    from motionlab_client import Client

    ml = Client("http://127.0.0.1:8000", token=None)  # or MOTIONLAB_URL / MOTIONLAB_TOKEN
    ml.upload("data/basicmotions.csv", sample_rate_hz=10)
    run = ml.train(prediction_window=10, max_iterations=20, split={"strategy": "column"})
    run.wait(progress=True)
    print(run.metrics()["test"]["accuracy"])
    run.download_mlmodel("GestureClassifier.mlmodel")
    ml.register(run, "GestureClassifier")

Every failure is a `MotionlabError` carrying the server's problem details (RFC 9457), or
an `InputError` (one too) for what was wrong before any request: a local file not there…
Nothing here imports the server's code (import-linter holds it to that): the client installs
and runs where only httpx is.
"""

from motionlab_client.client import Client, Pulled
from motionlab_client.errors import InputError, MotionlabError, RunFailed
from motionlab_client.run import Run

__all__ = ["Client", "InputError", "MotionlabError", "Pulled", "Run", "RunFailed"]
