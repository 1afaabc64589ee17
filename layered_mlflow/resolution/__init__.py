"""Resolution.

The layers in precedence order, merged into one immutable result with its provenance; URIs anchored to
the root, derived values, the child's variables; then the steps on a result: required keys, and secret
references fetched.
"""
