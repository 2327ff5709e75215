"""`python -m transformer ...`: see `transformer.cli`."""

import sys

try:  # importing numpy, numba and the model takes a moment: Ctrl-C then is no traceback either
    from transformer.cli import main
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    raise SystemExit(130) from None
except ValueError as error:  # a bad MINIGRAD_* variable: minigrad reads them at import
    print(f"error: {error}", file=sys.stderr)
    raise SystemExit(2) from None

raise SystemExit(main())
