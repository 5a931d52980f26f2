"""Study ``labelfree``: label-free feature and example importance for unsupervised models.

Crabbé & van der Schaar, ICML 2022, as reproduced by FACT (MLRC 2022). So far: the demo
data generators with planted ground truth (``data``) and the models and objectives
(``models``); the label-free feature and example importance methods live in
:mod:`xairepro.attribution.label_free` and :mod:`xairepro.attribution.example_importance`.
The workflow rules are still to come (issue 5).
"""
