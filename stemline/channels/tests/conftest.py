"""Fixtures of the channel tests: a running marketplace simulator and connected channels."""

import pytest

from stemline.channels import delivery, services
from stemline.channels.models import Channel
from stemline.demo.simulator import Simulator


@pytest.fixture
def simulator():
    sim = Simulator({}, api_url="http://127.0.0.1:9", port=0).start()
    yield sim
    sim.stop()


@pytest.fixture
def connect(simulator, stocked):
    """Connect a marketplace of the stocked company, its feed pushed to the simulator."""

    def make(marketplace="ftd", *, api_url="http://127.0.0.1:9", **kw):
        bundle = services.connect(
            company=stocked.company,
            marketplace=marketplace,
            endpoint_url=simulator.webhook_url(marketplace),
            **kw,
        )
        market = simulator.add(marketplace, bundle.data, api_url)
        return Channel.objects.get(pk=bundle.data["channelId"]), market, bundle

    return make


def deliver(channel: Channel):
    """What workers do for this channel's endpoint: its snapshot due (sent beside the deltas),
    then its stream of deltas. The stream's outcome."""
    snapshot = delivery.send_snapshot(channel.endpoint_id)
    outcome = delivery.drain(channel.endpoint_id)
    outcome.sent += snapshot.sent
    outcome.failed += snapshot.failed
    outcome.retry_at = outcome.retry_at or snapshot.retry_at
    outcome.waiting_until = outcome.waiting_until or snapshot.waiting_until
    return outcome
