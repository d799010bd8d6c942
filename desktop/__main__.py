"""`python -m desktop` runs the `dengji` command."""

from desktop.cli import main

raise SystemExit(main())
