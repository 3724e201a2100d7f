"""Test-wide settings.

OpenBLAS threads fight for the two cores of these machines (a 300-decode IronMask test went
from 0.06 s to 5 s); one BLAS thread per process keeps the suite fast and steady. This must
run before numpy is imported, which is why it sits at the top of the root conftest.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
