"""Layouts.

where a project keeps its settings. The `settings/` folder, a Kedro project's `conf/`, and finding the project
root.
"""
