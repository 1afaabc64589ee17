"""`check --online`: the checks that reach the tracking server, the artifact store and local stores, bounded in time."""
