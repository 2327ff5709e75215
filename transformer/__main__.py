"""`python -m transformer ...`: see `transformer.cli`."""

import sys

try:  # importing numpy, numba and the model takes a moment: Ctrl-C then is no traceback either
    from transformer.cli import main
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
