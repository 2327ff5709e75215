"""Test setup: one BLAS thread (small matrices on 2 shared cores are faster and steadier single
threaded; this must happen before numpy is imported) and the shared helpers on the path."""

import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))
