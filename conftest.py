import os

# scikit-learn's array API check runs (rather than skips) only with this set
# before scipy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
