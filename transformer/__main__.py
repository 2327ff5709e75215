"""`python -m transformer ...`: see `transformer.cli`."""

from transformer.cli import main

raise SystemExit(main())
