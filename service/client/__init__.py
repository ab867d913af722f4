"""A typed Python client of the motionlab API, on httpx and the standard library only.

    from service.client import Client

    ml = Client("http://127.0.0.1:8000", token=None)  # or MOTIONLAB_URL / MOTIONLAB_TOKEN
    ml.upload("data/basicmotions.csv", sample_rate_hz=10)
    run = ml.train(prediction_window=10, max_iterations=20, split={"strategy": "column"})
    run.wait(progress=True)
    print(run.metrics()["test"]["accuracy"])
    run.download_mlmodel("GestureClassifier.mlmodel")
    ml.register(run, "GestureClassifier")

Every failure is a `MotionlabError` carrying the server's problem details (RFC 9457).
Nothing here imports the server's code (import-linter holds it to that): the client installs
and runs where only httpx is.
"""

from service.client.client import Client, Pulled
from service.client.errors import MotionlabError, RunFailed
from service.client.run import Run

__all__ = ["Client", "MotionlabError", "Pulled", "Run", "RunFailed"]
