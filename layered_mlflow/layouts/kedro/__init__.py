"""A Kedro project's layout: its `conf/` folders, its `settings.py`, and OmegaConf's interpolations."""
