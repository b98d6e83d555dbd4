"""`python -m losscape --help`."""

from losscape.pipeline.cli import main

raise SystemExit(main())
