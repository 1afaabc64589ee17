"""Sources: bytes to values.

Settings files, `.env` files, `X_FILE` variables, the parse cache, kedro-mlflow's file shape, and the layers
they make.
"""
