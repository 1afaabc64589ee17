"""The command line.

the console script's fast path, click's commands, their output, `init`, and the runner that execs.
"""
