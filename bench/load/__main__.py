"""Entry point: python -m bench.load (what scripts/bench-load runs)."""

import sys

from bench.load.run import main

sys.exit(main(sys.argv[1:]))
