"""What MLflow defines, read from the installed MLflow without importing it.

its variables, its server's options, its URI schemes.
"""
