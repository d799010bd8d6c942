"""Subcommands of `dengji`, one module per area. Each module defines `register(sub)`, which adds
its parsers to the subparsers `sub` and sets `func` on each; cli.py discovers the modules, so a
new area adds a module here and touches nothing else."""
