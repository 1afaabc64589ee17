"""What other programs call: `configure()`, MLflow's request-auth provider, the experiment's set-up, the JSON schema."""
