"""X-Ray tracing, only where it is switched on (template parameter ``Tracing``).

Powertools' Tracer loads the X-Ray SDK as soon as it is made, even when disabled: a few
hundred milliseconds of every cold start. So a function makes one through
:func:`tracer`, which gives a stand-in with the same decorator when tracing is off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlrhub.runtime.settings import powertools


class NoTracer:
    """What a function uses of Powertools' Tracer, doing nothing."""

    def capture_lambda_handler(self, handler: Callable[..., Any] | None = None, **_: Any) -> Any:
        return handler if handler is not None else (lambda function: function)


def tracer() -> Any:
    if not powertools().tracing_on:
        return NoTracer()
    from aws_lambda_powertools import Tracer

    return Tracer()
