"""marker_demo.py: the Python marker module under `joulebench exec` in the
tests: a region "py" of about 50 ms (sleep) producing 5 units, twice."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ["JB_SOURCE_DIR"], "python"))
import joulebench_marker as jb  # noqa: E402

for _ in range(2):
    with jb.region("py", units=5):
        time.sleep(0.05)
sys.exit(0 if jb.active() == (os.environ.get("JB_MARKER_FD") is not None) else 3)
