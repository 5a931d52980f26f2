"""The shape every study's rules share (docs/architecture.md): short rule files that state
only what is specific to a rule, and one registry as the only list of studies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xairepro.common.registry import study_names

ROOT = Path(__file__).resolve().parents[2]
STUDIES = study_names(ROOT)
# Directives that follow from the rule's name (rules/common.smk sets all but the script).
MECHANICAL = re.compile(r"^    (log|benchmark|conda|container|script):")
DERIVED = re.compile(r"^    (log|benchmark|conda|container):")


def directive_lines(text: str, pattern: re.Pattern) -> int:
    """Lines of the matching directives, their values included."""
    count, inside = 0, False
    for line in text.splitlines():
        if pattern.match(line):
            count, inside = count + 1, True
        elif inside and line.startswith("        "):
            count += 1
        else:
            inside = False
    return count


def rule_files(study: str) -> list[Path]:
    """rules/<study>.smk and the rule files it includes (rules/<study>_*.smk), not its functions."""
    extra = sorted(p for p in (ROOT / "rules").glob(f"{study}_*.smk") if p.name != f"{study}_functions.smk")
    return [ROOT / "rules" / f"{study}.smk", *extra]


@pytest.mark.parametrize("study", STUDIES)
def test_rule_files_are_short_and_state_what_is_specific(study):
    for path in rule_files(study):
        text = path.read_text()
        lines = [line for line in text.splitlines() if line.strip()]
        assert len(text.splitlines()) <= 320, f"{path.name} has {len(text.splitlines())} lines"
        assert directive_lines(text, DERIVED) == 0, "log/benchmark/conda/container come from finish_rules"
        assert "log_level" not in text
        share = directive_lines(text, MECHANICAL) / len(lines)
        assert share < 0.15, f"{path.name}: {share:.0%} of its lines are mechanical directives"


@pytest.mark.parametrize("study", STUDIES)
def test_rules_read_config_through_the_one_accessor(study):
    text = "".join(path.read_text() for path in (ROOT / "rules").glob(f"{study}*.smk"))
    assert 'config["' not in text and "study_cfg(" not in text, "use setting() (rules/common.smk)"


def test_no_code_lists_the_studies_but_the_registry():
    """The five names together appear in config/studies.yaml only, not in code."""
    offenders = []
    files = [ROOT / "Snakefile", ROOT / "Makefile", *ROOT.glob("rules/*.smk"), *ROOT.glob(".ci/*"),
             *ROOT.glob("xairepro/**/*.py"), *ROOT.glob("scripts/**/*.py"), *ROOT.glob("tests/**/*.sh")]
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if sum(re.search(rf"\b{s}\b", line) is not None for s in STUDIES) >= 4:
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []
