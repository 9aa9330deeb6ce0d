"""Provider simulators: real HTTP servers on 127.0.0.1 answering each provider's status API.

Used in-process by the tests and started by the local stack (docs/poller.md lists the
knobs). One module per provider; :mod:`.base` holds what they share.
"""

from __future__ import annotations

from dlrhub_local.simulators.base import SimRequest, SimResponse, SimulatorServer
from dlrhub_local.simulators.huawei import HuaweiSimulator
from dlrhub_local.simulators.infin8linx import Infin8linxSimulator
from dlrhub_local.simulators.innopaas import InnoPaaSSimulator
from dlrhub_local.simulators.webcom import WebcomSimulator

__all__ = [
    "HuaweiSimulator",
    "Infin8linxSimulator",
    "InnoPaaSSimulator",
    "SimRequest",
    "SimResponse",
    "SimulatorServer",
    "WebcomSimulator",
]
