"""Secrets.

What counts as a secret and how it is masked, what a secret reference looks like, fetching references
(bounded, one request each), and the `token` section's names and sources.
"""
