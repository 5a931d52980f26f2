"""The deviations table of each study's page, generated from docs/deviations/<study>.csv.

    python scripts/docs/deviations.py            # exit 1 naming each page out of date
    python scripts/docs/deviations.py --write    # rewrite the tables in docs/<study>.md

The page holds the table between the markers of :mod:`xairepro.common.deviations`; the
text around them is the page's own. tests/common/test_deviations.py runs the check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xairepro.common import deviations
from xairepro.common.registry import ROOT, study_names


def stale_pages(root: Path, write: bool) -> list[str]:
    stale = []
    for study in study_names(root):
        source = deviations.table_path(root, study)
        if not source.exists():
            continue
        page = root / "docs" / f"{study}.md"
        text = page.read_text()
        fresh = deviations.replace_block(text, study, deviations.markdown(deviations.read_table(source)))
        if fresh != text:
            stale.append(str(page.relative_to(root)))
            if write:
                page.write_text(fresh)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the out-of-date tables")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    stale = stale_pages(args.root, args.write)
    for page in stale:
        print(f"{page}: deviations table {'rewritten' if args.write else 'out of date (run with --write)'}")
    return 0 if args.write or not stale else 1


if __name__ == "__main__":
    sys.exit(main())
