"""The HTML report, opened in a real browser (issue 18): its first page shows every study's
verdicts as HTML tables, and every study's figures are in it with their captions.

Needs Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). The screenshot
of the first page is kept in ``test-artefacts/report_first_page.png``."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from xairepro.common.registry import study_names

from .conftest import ROOT

pytestmark = pytest.mark.workflow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: The flags a closed network needs: no background fetches, no sandbox as root.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
ARTEFACTS = ROOT / "test-artefacts"


class _Tables(HTMLParser):
    """The cell texts of every <table> in a page, after the heading that precedes it."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._heading, self._in_heading, self._rows, self._cell = "", False, None, None

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "h3"):
            self._in_heading, self._heading = True, ""
        elif tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3"):
            self._in_heading = False
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._heading.strip()] = self._rows
            self._rows = None

    def handle_data(self, data):
        if self._in_heading:
            self._heading += data
        if self._cell is not None:
            self._cell += data


def _chromium(*args: str, user_data: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={user_data}", *args],
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def rendered(demo_run, demo_report, tmp_path_factory):
    """(workdir, the DOM after the report's scripts ran, the claims table)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    workdir, _ = demo_run
    page = f"file://{demo_report}"
    user_data = tmp_path_factory.mktemp("chromium")
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "report_first_page.png"
    shot.unlink(missing_ok=True)
    _chromium("--window-size=1600,1400", f"--screenshot={shot}", page, user_data=user_data)
    assert shot.is_file() and shot.stat().st_size > 10_000, "chromium wrote no screenshot"
    dom = _chromium("--virtual-time-budget=5000", "--dump-dom", page, user_data=user_data).stdout
    claims = pd.read_csv(workdir / "results/demo/claims.csv", comment="#")
    return workdir, dom, claims


def test_first_page_shows_every_studys_verdicts(rendered):
    _, dom, claims = rendered
    parser = _Tables()
    parser.feed(dom)
    summary, listing = parser.tables["Verdicts by study"], parser.tables["Every claim"]
    header, rows = summary[0], {row[0]: dict(zip(summary[0], row)) for row in summary[1:]}
    assert header[:5] == ["study", "claims", "pass", "fail", "uninformative"]
    assert set(rows) == set(study_names())
    for study, part in claims[claims.kind == "claim"].groupby("study"):
        counts = part.verdict.value_counts()
        assert int(rows[study]["claims"]) == len(part), study
        for verdict in ("pass", "fail", "uninformative"):
            assert int(rows[study][verdict]) == counts.get(verdict, 0), (study, verdict)
    # every claim, with its verdict, as the rendered page shows it
    assert listing[0][:3] == ["study", "verdict", "claim"]
    shown = [(row[0], row[1], row[2]) for row in listing[1:]]
    expected = [(r.study, r.verdict.upper(), " ".join(r.claim.split()))
                for r in claims[claims.kind == "claim"].itertuples()]
    assert shown == expected


def test_the_first_page_is_the_verdicts(rendered):
    """The page opens on the workflow panel, whose text starts with the verdicts."""
    _, dom, _ = rendered
    body = dom[dom.index("<body"):]
    assert body.index("Verdicts by study") < body.index("Every claim")
    assert "Undefined substitution" not in dom and "System Message" not in dom


def test_every_study_figure_is_in_the_report(rendered):
    workdir, dom, _ = rendered
    html = (workdir / "report.html").read_text(errors="replace")
    for study in study_names():
        figures = sorted((workdir / "results/demo" / study).glob("*.png"))
        assert figures, study
        for figure in figures:
            assert figure.name in html, figure
        assert f"<span>{study}</span>" in dom, study  # its menu entry


def test_every_studys_deviations_are_in_the_report(rendered):
    """Each study's deviations table at the demo scale, with the in-effect column, is in the
    report under the study's menu."""
    workdir, dom, _ = rendered
    html = (workdir / "report.html").read_text(errors="replace")
    for study in study_names():
        table = pd.read_csv(workdir / "results/demo" / study / "deviations.csv", comment="#")
        assert len(table) and set(table.in_effect) <= {"yes", "no"}, study
    assert html.count("deviations.csv") >= len(study_names())
