"""Study `interactive`: captum heatmaps vs generative latent-space explanations.

Reproduces the computable part of "Explainability Requires Interactivity" (Zieger et al.,
arXiv 2109.07869): ResNet-18 attribute/class classifiers, their captum heatmaps, and the
StyleGAN-based generative explanations (latent dataset, latent logistic regressions,
projection + moves along attribute directions).

Modules, as every study's: ``data`` (demo data with planted attributes, paper loaders, what
each classifier reads), ``models`` (the no-repeat ResNet-18, the generator with the
StyleGAN2 interface, loading trained models), ``train`` (classifiers, demo generator,
latent logistic regressions), ``explain`` (the captum heatmaps and :class:`LatentMoves`,
each an explainer with one ``attribute``), ``steps`` (the explaining rules' steps),
``tables`` (summaries and claims) and ``figures``.
"""
