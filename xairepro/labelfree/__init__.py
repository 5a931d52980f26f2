"""Study ``labelfree``: label-free feature and example importance for unsupervised models.

Crabbé & van der Schaar, ICML 2022, as reproduced by FACT (MLRC 2022). So far: the demo
data generators with planted ground truth (``data``); the label-free attribution wrapper
lives in :mod:`xairepro.attribution.label_free`.
"""
