"""Convert the BasicMotions dataset (as shipped in the sktime 1.2.0 wheel) to motionlab's
stacked upload CSV.

    python data/make_basicmotions.py            # downloads the wheel with pip (no deps)
    python data/make_basicmotions.py WHEEL.whl  # or reads a wheel you already have

Writes data/basicmotions.csv: one row per sample, columns
sessionId, activity, split, timestamp, accelX, accelY, accelZ, rotX, rotY, rotZ.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SKTIME = "sktime==1.2.0"
MEMBER = "sktime/datasets/data/BasicMotions/BasicMotions_{part}.ts"
FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]  # the .ts dimension order
SAMPLE_PERIOD_S = 0.1  # 10 Hz
OUT = Path(__file__).with_name("basicmotions.csv")


def read_ts(text: str) -> list[tuple[str, list[list[str]]]]:
    """Parse a sktime .ts file: each case is 6 ':'-separated dimensions, then its label."""
    cases, in_data = [], False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() == "@data":
            in_data = True
            continue
        if in_data:
            *dimensions, label = line.split(":")
            cases.append((label, [dim.split(",") for dim in dimensions]))
    return cases


def fetch_wheel(directory: str) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", directory, SKTIME],
        check=True,
    )
    return next(Path(directory).glob("sktime-*.whl"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(sys.argv[1]) if len(sys.argv) > 1 else fetch_wheel(tmp)
        with zipfile.ZipFile(wheel) as archive, OUT.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["sessionId", "activity", "split", "timestamp", *FEATURES])
            for part, split in (("TRAIN", "train"), ("TEST", "test")):
                text = archive.read(MEMBER.format(part=part)).decode()
                for number, (label, dimensions) in enumerate(read_ts(text)):
                    session = f"{split}-{number:03d}"
                    for step, values in enumerate(zip(*dimensions, strict=True)):
                        writer.writerow(
                            [session, label, split, f"{step * SAMPLE_PERIOD_S:.1f}", *values]
                        )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
