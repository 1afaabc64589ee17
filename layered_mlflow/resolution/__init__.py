"""Resolution.

the layers in precedence order, merged into one immutable result, with URIs, derived values and the child's
variables.
"""
