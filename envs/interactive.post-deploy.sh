#!/usr/bin/env bash
# Run by Snakemake inside the freshly created conda env: install the xairepro library from
# the checkout Snakemake was started in (without dependencies: the env pins them).
set -euo pipefail
python -m pip install --no-deps --no-build-isolation -e "${XAIREPRO_ROOT:-$PWD}"
