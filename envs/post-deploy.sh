#!/usr/bin/env bash
# Run by Snakemake inside the freshly created conda env: install the xairepro library from
# the checkout Snakemake was started in (without dependencies: the env pins them).
# Snakemake looks for envs/<study>.post-deploy.sh next to envs/<study>.yaml: each of those is
# a relative link to this one script (Snakemake reads and copies it through the link).
set -euo pipefail
python -m pip install --no-deps --no-build-isolation -e "${XAIREPRO_ROOT:-$PWD}"
