"""Save a PNG of the whole X screen named by $DISPLAY: `screenshot.py OUT.png`.

packaging/smoke.sh uses it to photograph the built app's window on its Xvfb display. It
runs with the dev venv's PySide6 (xcb platform) so CI needs no ImageMagick or xwd. Exits
non-zero when the grab fails or the screen is a single colour (nothing was drawn).
"""

from __future__ import annotations

import sys


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: screenshot.py OUT.png", file=sys.stderr)
        return 2
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    screen = app.primaryScreen()
    image = screen.grabWindow(0).toImage()
    if image.isNull():
        print("screenshot: the grab is empty", file=sys.stderr)
        return 1
    # a blank screen (only the root window's colour) means no window was painted
    step = max(1, min(image.width(), image.height()) // 64)
    colours = {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}
    if len(colours) < 8:
        print(f"screenshot: the screen is blank ({len(colours)} colours)", file=sys.stderr)
        return 1
    if not image.save(sys.argv[1], "PNG"):
        print(f"screenshot: cannot write {sys.argv[1]}", file=sys.stderr)
        return 1
    print(f"screenshot: {sys.argv[1]} ({image.width()}x{image.height()}, {len(colours)} colours sampled)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
