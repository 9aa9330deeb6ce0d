"""Provider simulators: real HTTP servers on 127.0.0.1 answering each provider's status API.

Used in-process by the tests and started by the local stack (docs/poller.md lists the
knobs). One module per provider, registered in :data:`SIMULATORS` by the provider name
it plays; :mod:`.base` holds what they share.
"""

from __future__ import annotations

from dlrhub_local.simulators.awseum import AwsEumSimulator
from dlrhub_local.simulators.base import DemoMessage as DemoMessage
from dlrhub_local.simulators.base import SimulatorServer
from dlrhub_local.simulators.huawei import HuaweiSimulator
from dlrhub_local.simulators.infin8linx import Infin8linxSimulator
from dlrhub_local.simulators.innopaas import InnoPaaSSimulator
from dlrhub_local.simulators.twilio import TwilioSimulator
from dlrhub_local.simulators.vonage import VonageSimulator
from dlrhub_local.simulators.webcom import WebcomSimulator

SIMULATORS: dict[str, type[SimulatorServer]] = {
    simulator.provider: simulator
    for simulator in (
        Infin8linxSimulator,
        HuaweiSimulator,
        WebcomSimulator,
        InnoPaaSSimulator,
        TwilioSimulator,
        VonageSimulator,
        AwsEumSimulator,
    )
}
