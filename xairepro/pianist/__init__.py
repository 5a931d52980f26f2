"""Study ``pianist``: LIME and TCAV explanations of a jazz-pianist classifier on piano rolls
(Cheston, Bance & Harrison 2025, "Deconstructing Jazz Piano Style Using Machine Learning")."""
