"""Plain metric functions shared by the studies (never defined inside training hooks)."""
