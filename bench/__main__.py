"""``python -m bench`` (``make bench``): the local stack's reply times per route."""

from bench.local_stack_latency import main

raise SystemExit(main())
