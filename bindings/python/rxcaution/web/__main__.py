"""``python -m rxcaution.web``: serve the checker page, its JSON API and the CDS Hooks service."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
