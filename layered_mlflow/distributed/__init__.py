"""Distributed jobs (SPEC §13): every worker gets the same settings, and no secret travels through the engine.

``worker`` is what runs in a worker and what a launcher hands it; ``targets`` writes the
variables for each engine's own channel (Ray, Kubernetes, AWS Batch/ECS, Spark).
"""
