"""Rebuild the delivery counters and the provider scorecard of a time range from the message items.

    python -m dlrhub_tools.recount --table dlrhub-prod-MessagesTable-XYZ \\
        --accounts infin8linx/main,webcom/main --from 2026-11-25T00:00Z --to 2026-11-26T00:00Z

Whole 5-minute buckets of submission time are rewritten, and the scorecard's whole hours
(docs/operations.md, "Recount").
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from dlrhub.domain.scorecard import decimal_text
from dlrhub.table.recount import Recounter
from dlrhub_tools.common import accounts, add_aws_arguments, client, utc_time


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="python -m dlrhub_tools.recount", description=__doc__.split("\n\n")[0])
    add_aws_arguments(found)
    found.add_argument("--accounts", type=accounts, required=True, help="provider/account pairs, comma-separated")
    found.add_argument("--from", dest="start", type=utc_time, required=True, help="first submission time, UTC")
    found.add_argument("--to", dest="end", type=utc_time, required=True, help="end of the range (excluded), UTC")
    found.add_argument("--dry-run", action="store_true", help="count and print, write nothing")
    return found


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = parser().parse_args(argv)
    if args.end <= args.start:
        out("--to must come after --from")
        return 2
    recounter = Recounter(args.table, client("dynamodb", args.endpoint_url))
    for provider, account in args.accounts:
        result = recounter.recount(provider, account, args.start, args.end, dry_run=args.dry_run)
        verb = "would rewrite" if args.dry_run else "rewrote"
        out(f"{provider}/{account}: {verb} {result.buckets} buckets from {result.messages} messages")
        for bucket, fields in result.counters.items():
            out(f"  {bucket}  " + " ".join(f"{name}={value}" for name, value in fields.items()))
        card = recounter.recount_scorecard(provider, account, args.start, args.end, dry_run=args.dry_run)
        out(f"{provider}/{account}: scorecard: {verb} {card.hours} hours from {card.messages} messages")
        for key, figures in sorted(card.rows.items()):
            shown = " ".join(f"{name}={decimal_text(value)}" for name, value in sorted(figures.items()))
            out(f"  {key.hour} {key.country}  {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
