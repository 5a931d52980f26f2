"""Code shared by every study: errors, IO, downloads, seeding, training, logging, plotting."""
