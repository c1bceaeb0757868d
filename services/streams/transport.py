"""The faust transport for the embedded broker: aiokafka with a short fetch wait.

faust fixes the consumer's `fetch_max_wait_ms` at 1,500 ms. Apache Kafka answers a fetch as soon as
data is there, so that only bounds idle polls; Tansu (the embedded broker) holds every fetch for the
full wait, which added up to 1.5 s to each hop of the pipeline. Registered as the `tansu://` scheme
through the `faust.transports` entry point (pyproject.toml); `create_app` uses it on the embedded
broker only, and real Kafka keeps faust's own transport.
"""

from __future__ import annotations

from typing import Any, ClassVar

from faust.transport.drivers import aiokafka as faust_aiokafka

FETCH_MAX_WAIT_MS = 50


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read by the fetcher when the consumer starts
        return consumer


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer: ClassVar[type[Any]] = Consumer
    driver_version = f"tansu+{faust_aiokafka.Transport.driver_version}"
