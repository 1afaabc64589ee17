"""The tracking server.

Its settings, the `mlflow server` command line, its ports, its basic-auth configuration, its keeper.
"""
