"""Render the app icon (resources/icons/xindesk.svg) into the files the installers need.

    python scripts/icons.py            # writes resources/icons/xindesk-<size>.png, .ico, .icns

- xindesk-<size>.png: 16 to 1024 pixels (the AppImage and Linux desktop entry use 256).
- xindesk.ico: Windows (the .exe and the installer), 16 to 256 pixels.
- xindesk.icns: macOS (the .app bundle), 16 to 1024 pixels, Retina sizes included.

Qt renders the SVG; the .ico and .icns are written here rather than by Qt's image plugins,
which store one size per file. Both formats are small containers of PNG images. Run it again
after changing the SVG and commit the results (tests/test_installers.py compares them).
"""

from __future__ import annotations

import argparse
import logging
import os
import struct
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ICONS = REPO / "resources" / "icons"
SVG = ICONS / "xindesk.svg"

log = logging.getLogger("xindesk.scripts.icons")

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, and the pixel size each holds. The @2x types are the
# Retina versions of the point size before them (ic11 = 16 pt at 2x = 32 px).
ICNS_TYPES = {
    b"icp4": 16,
    b"icp5": 32,
    b"ic11": 32,
    b"icp6": 64,
    b"ic12": 64,
    b"ic07": 128,
    b"ic08": 256,
    b"ic13": 256,
    b"ic09": 512,
    b"ic14": 512,
    b"ic10": 1024,
}


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn on a transparent `size` x `size` square, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not an SVG Qt can read")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PNG stores straight (not premultiplied) alpha. PySide6 takes the format as a str here,
    # although its type stubs ask for bytes.
    image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    return bytes(data.data())


def build_ico(pngs: Mapping[int, bytes]) -> bytes:
    """A Windows .ico holding one PNG per size (PNG entries work since Windows Vista).

    Layout: a 6-byte header (reserved 0, type 1 = icon, image count), one 16-byte directory
    entry per image (width and height in one byte each, 0 meaning 256; colour count 0;
    reserved 0; 1 plane; 32 bits per pixel; data size; data offset), then the PNG data.
    """
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = [], []
    for size in sizes:
        data = pngs[size]
        side = 0 if size == 256 else size
        entries.append(struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset))
        blobs.append(data)
        offset += len(data)
    return header + b"".join(entries) + b"".join(blobs)


def build_icns(pngs: Mapping[int, bytes]) -> bytes:
    """A macOS .icns: the magic "icns" and the file length (big-endian), then one element
    per type: its four-byte type, its length including this 8-byte header, and a PNG."""
    elements = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
        for kind, size in ICNS_TYPES.items()
    )
    return b"icns" + struct.pack(">I", 8 + len(elements)) + elements


def write_icons(svg: Path, out_dir: Path) -> list[Path]:
    """Render every size and write the PNGs, the .ico and the .icns; returns the paths."""
    pngs = {size: render_png(svg, size) for size in PNG_SIZES}
    written = []
    for size, data in pngs.items():
        path = out_dir / f"xindesk-{size}.png"
        path.write_bytes(data)
        written.append(path)
    ico = out_dir / "xindesk.ico"
    ico.write_bytes(build_ico({size: pngs[size] for size in ICO_SIZES}))
    icns = out_dir / "xindesk.icns"
    icns.write_bytes(build_icns(pngs))
    return [*written, ico, icns]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--svg", type=Path, default=SVG)
    parser.add_argument("--out", type=Path, default=ICONS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # Rendering needs a Qt GUI application, but no screen.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])
    for path in write_icons(args.svg, args.out):
        log.info("wrote %s (%d bytes)", path.relative_to(REPO), path.stat().st_size)
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
