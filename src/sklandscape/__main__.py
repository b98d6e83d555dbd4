"""`python -m sklandscape --help`."""

from sklandscape.pipeline.cli import main

raise SystemExit(main())
