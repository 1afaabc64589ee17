"""The command line.

The console script's fast path, click's commands, how a command starts and ends, its output, `init`,
and the runner that execs.
"""
