"""Study ``labelfree``: label-free feature and example importance for unsupervised models.

Crabbé & van der Schaar, ICML 2022, as reproduced by FACT (MLRC 2022): claims 1.1 (feature
importance consistency), 1.2 (example importance consistency), 2.1/2.2 (pretext tasks),
3 (disentanglement) and FACT's encoder vs full model extension.

Modules, in the shape every study has:

* ``data``: demo generators with planted ground truth, the paper data readers, model inputs;
* ``models``: the autoencoders, the encoder classifier, the Burgess VAE and its objectives;
* ``train``: one trainer per training rule (resumable), and the loaders of what they write;
* ``explain``: the explainers, one class per method in captum's pattern (on top of
  :mod:`xairepro.attribution.label_free` and :mod:`xairepro.attribution.example_importance`);
* ``steps``: one function per explanation rule (attributions, masking, correlations);
* ``tables``: the claims and the LaTeX tables; ``figures``: the figures.
"""
