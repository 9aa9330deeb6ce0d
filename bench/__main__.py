"""``python -m bench`` (``make bench``): the figures of issue 10; ``--help`` lists the options."""

from bench.cli import main

raise SystemExit(main())
