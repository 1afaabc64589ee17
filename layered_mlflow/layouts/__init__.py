"""Layouts: where a project keeps its settings.

The `settings/` folder, a Kedro project's `conf/`, the `Layout` protocol every other layer reads a project
through, and finding the project root.
"""
