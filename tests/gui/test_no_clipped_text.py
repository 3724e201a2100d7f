"""No text cut off on any page, at 100% and 150% scale, in the light and the dark theme;
and every control on every page has a name a screen reader reads.

Each combination runs tests/gui/all_pages.py in a fresh process (QT_SCALE_FACTOR and the
theme are process-wide), which walks every page at the default window size with a real
vault, saves screenshots (test-artifacts/gui/50-pages-*) and reports the texts that do
not fit (tests/gui/clipping.py). The checker is itself tested on widgets that are clipped
on purpose, so this test can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QVBoxLayout, QWidget

from tests.gui.clipping import clipped
from tests.gui.conftest import ARTIFACTS
from tests.helpers.media import REPO_ROOT

PAGES = {"start", "enroll-where", "enroll-where-passphrase", "enroll-capture", "enroll-code",
         "enroll-confirm", "unlock-passphrase", "unlock", "browser", "security", "security-computers",
         "about"}


def test_the_checker_finds_text_that_is_cut_off(qtbot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(300, 200)
    wrapped = QLabel("a long sentence that wraps onto several lines " * 6, window)
    wrapped.setWordWrap(True)
    wrapped.setGeometry(0, 0, 280, 20)
    narrow = QLabel("a single line that is far too wide for its place", window)
    narrow.setGeometry(0, 30, 60, 20)
    button = QPushButton("A button with a long caption", window)
    button.setGeometry(0, 60, 40, 30)
    past = QLabel("off the edge", window)
    past.setGeometry(250, 100, 200, 20)
    fine = QWidget(window)
    QVBoxLayout(fine).addWidget(QLabel("fits"))
    fine.setGeometry(0, 130, 200, 40)
    window.show()
    found = clipped(window)
    assert len(found) == 4, found
    assert any("needs" in f and "height" in f for f in found)
    assert any("runs past" in f for f in found)


@pytest.mark.parametrize("scale", ["1", "1.5"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_page_cuts_text_off(tmp_path: Path, scale: str, theme: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = f"50-pages-{int(float(scale) * 100)}-{theme}"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale,
               FACEVAULT_CONFIG_DIR=str(tmp_path / "config"), FACEVAULT_DATA_DIR=str(tmp_path / "data"),
               FACEVAULT_RUNTIME_DIR=str(tmp_path / "runtime"))
    (tmp_path / "work").mkdir()
    res = subprocess.run([sys.executable, str(REPO_ROOT / "tests" / "gui" / "all_pages.py"), str(ARTIFACTS),
                          prefix, theme, str(tmp_path / "work")], capture_output=True, text=True, env=env,
                         cwd=REPO_ROOT, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    found = json.loads(res.stdout.strip().splitlines()[-1])
    report = found["clipped"]
    assert set(report) == PAGES
    cut = {page: texts for page, texts in report.items() if texts}
    assert cut == {}
    if scale == "1" and theme == "light":  # names do not depend on scale or theme
        nameless = {page: c for page, c in found["unnamed"].items() if c}
        assert nameless == {}  # every control has a name a screen reader can read


def test_the_name_checker_finds_a_control_without_a_name(qtbot) -> None:
    from PySide6.QtWidgets import QFormLayout, QLineEdit

    from tests.gui.a11y import unnamed

    window = QWidget()
    qtbot.addWidget(window)
    form = QFormLayout(window)
    bare, labelled, named = QLineEdit(), QLineEdit(), QLineEdit()
    named.setAccessibleName("Folder")
    label = QLabel("&Camera:")
    label.setBuddy(labelled)
    form.addRow(bare)
    form.addRow(label, labelled)
    form.addRow(named)
    form.addRow(QPushButton("&Go"))
    window.show()
    assert len(unnamed(window)) == 1  # only the bare field


def test_keyboard_order_in_the_computers_panel(qtbot, ctx) -> None:
    """Tab goes from the list of computers to Pair, then to Remove (the start page's new
    Remove button is in test_screens' keyboard test)."""
    from facevault.gui.devices_panel import DevicesPanel

    panel = DevicesPanel(ctx, lambda _t: None)
    qtbot.addWidget(panel)
    chain, widget = [], panel.list.nextInFocusChain()
    while widget is not panel.list and len(chain) < 50:
        if widget in (panel.pair_button, panel.remove_button):
            chain.append(widget)
        widget = widget.nextInFocusChain()
    assert chain == [panel.pair_button, panel.remove_button]
