"""``python -m layered_mlflow``: the same command as ``layered-mlflow``."""

from layered_mlflow.cli.launch import main

if __name__ == "__main__":
    main()
