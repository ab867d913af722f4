"""Bodies sent as CSV that are not comma-separated text: told apart before a message about
their bytes ("not UTF-8") or their column names ("a control character") misleads."""

from __future__ import annotations

from service.errors import InvalidInput, MalformedBody

# What a body sent as text/csv turns out to be, by its first bytes.
NOT_CSV = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (a Sensor Logger export: send it as application/zip)"),
    (b"\x1f\x8b", "gzip-compressed (send it with Content-Encoding: gzip, or as a .csv.gz file)"),
    (b"{", "JSON (send it as application/json)"),
    (b"[", "JSON (send it as application/json)"),
)
OTHER_SEPARATORS = ((b"\t", "tabs"), (b";", "semicolons"))


def refuse_other_content(start: bytes, header: bytes) -> None:
    """400 for a body that is not a CSV at all (an image, an archive, JSON), and 422 for a CSV
    separated by tabs or semicolons, before a message about its bytes or its column names
    would send the user looking in the wrong place."""
    kind = next((what for magic, what in NOT_CSV if start.startswith(magic)), None)
    if kind is None and b"\0" in header:
        kind = "binary data"
    if kind is not None:
        raise MalformedBody(
            f"the body is not a CSV: it is {kind}. Send comma-separated text, a header line "
            "of column names first"
        )
    if b"," not in header:
        for separator, name in OTHER_SEPARATORS:
            if separator in header:
                raise InvalidInput(
                    f"the CSV header has no comma but {header.count(separator)} {name}: "
                    "motionlab reads comma-separated values only; save the file with commas "
                    "between the columns"
                )
