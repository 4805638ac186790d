"""End-to-end detection latency, ours vs. peers: the same as ``facedet bench`` (see its --help).

    python benchmarks/bench_detect.py --threads 1 2 --sizes 640x480 1280x720 --rounds 50
"""

import sys

from facedet.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
