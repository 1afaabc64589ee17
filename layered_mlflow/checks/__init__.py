"""`check`: the offline rules gathered into problems, and (under `online`) the checks that reach the stores."""
