"""A URL as a QR code in SVG, drawn by segno (BSD-3-Clause, pure Python): the dashboard shows
it so that a phone's camera opens /collect with its token."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str) -> str:
    """Error correction M (a screen's glare and moiré); a white quiet zone for dark themes."""
    buffer = io.BytesIO()
    qr = segno.make_qr(url, error="m")
    qr.save(buffer, kind="svg", scale=6, border=4, light="#fff", xmldecl=False, svgns=True)
    return buffer.getvalue().decode()
