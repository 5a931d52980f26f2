"""xai-repro: the library behind the workflow that regenerates five explainability studies.

Sub-packages: ``common`` (seeding, IO, downloads, training loop, logging, provenance),
``attribution`` (batched adapters over captum), ``metrics`` (ROAR curves, sign counts, ...)
and one package per study. Study packages may import ``common``, ``attribution`` and
``metrics``, never each other. Nothing here imports snakemake.
"""

__version__ = "0.1.0"
