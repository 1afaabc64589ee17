"""What MLflow defines, read from the installed MLflow without importing it.

Its variables, its server's options, its URI schemes: never only a list of ours (SPEC §1).
"""
