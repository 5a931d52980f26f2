"""Thin, batched adapters over captum: loss-gradient attribution, occlusion helpers."""
