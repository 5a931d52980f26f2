"""Study `interactive`: captum heatmaps vs generative latent-space explanations.

Reproduces the computable part of "Explainability Requires Interactivity" (Zieger et al.,
arXiv 2109.07869): ResNet-18 attribute/class classifiers, their captum heatmaps, and the
StyleGAN-based generative explanations (latent dataset, latent logistic regressions,
projection + moves along attribute directions).
"""
